from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "SSH config backup of the inventory (or one device): a new version only when the config changed."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--device", help="back up only this device")
        parser.add_argument("--no-tables", action="store_true", help="skip the ARP/MAC/LLDP tables")

    def handle(self, *args, **options):
        from collectors.services.backup import backup_devices
        from inventory.models import Device

        if options.get("device") and not Device.objects.filter(name=options["device"]).exists():
            self.fail(options, "DEVICE_UNKNOWN", f"no device named {options['device']!r} in the inventory.")
        result = backup_devices(device_name=options.get("device"), with_tables=not options["no_tables"])
        lines = [f"{r['device']}: {r['status']}" + (f" (version {r['version']})" if r["version"] else
                                                    f" ({r.get('error')})") for r in result["devices"]]
        lines.append(f"changed {result['changed']}, unchanged {result['unchanged']}, failed {result['failed']} "
                     f"in {result['seconds']} s")
        self.emit(options, result, "\n".join(lines))
