import time

from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "SNMP poll cycle over the inventory (every active device, or one with --device)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--device", help="poll only this device")
        parser.add_argument("--once", action="store_true", help="one cycle and exit (the default)")
        parser.add_argument("--every", type=int, metavar="SECONDS",
                            help="keep polling every SECONDS (without celery beat)")

    def handle(self, *args, **options):
        from collectors.services.polling import poll_cycle
        from inventory.models import Device

        if options.get("device") and not Device.objects.filter(name=options["device"]).exists():
            self.fail(options, "DEVICE_UNKNOWN", f"no device named {options['device']!r} in the inventory; "
                                                 "see `manage.py inventory export --format csv`.")
        while True:
            result = poll_cycle(device_name=options.get("device"))
            self.emit(options, result, f"polled {result['devices_polled']} devices "
                                       f"({result['devices_failed']} failed), {result['interfaces']} interfaces, "
                                       f"{result['samples_written']} samples in {result['seconds']} s")
            if options.get("once") or not options.get("every"):
                return
            self.stdout.write("")
            time.sleep(options["every"])
