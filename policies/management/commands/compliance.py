"""`manage.py compliance check|run`: the baseline and MLPS rules on one config file, or on the inventory's."""

from pathlib import Path

from web.commands import OneNetCommand
from web.errors import OneNetError


class Command(OneNetCommand):
    help = "Compliance with the extranet baseline and MLPS 2.0: check a config file offline, or the stored configs."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        check = subcommands.add_parser("check", help="check one config file offline (no inventory needed)")
        check.add_argument("--platform", required=True, help="platform slug: huawei_vrp, hp_comware, cisco_ios, "
                                                             "ruijie_os")
        check.add_argument("--config", required=True, metavar="FILE")
        check.add_argument("--role", default=None, help="the device's role (core, aggregation, access, cpe, egress, "
                                                        "firewall); the egress rules need it")
        run = subcommands.add_parser("run", help="check the stored configs of the inventory and keep the results")
        run.add_argument("--device", help="one device by name (default: every device with a stored config)")
        for sub in (check, run):
            super().add_arguments(sub)

    def handle(self, *args, **options):
        getattr(self, "handle_" + options["subcommand"])(options)

    def handle_check(self, options):
        from policies.engine import check_config

        path = Path(options["config"])
        text = self.read_config_file(options, path)
        try:
            findings = check_config(options["platform"], text, options["role"])
        except OneNetError as error:  # an unknown platform
            self.fail(options, error.code, error.message)
        results = [f.as_dict() for f in findings]
        lines = [f"{f.status:15} {f.severity:8} {f.rule:32} {f.message}" for f in findings]
        for finding in findings:
            lines += [f"    line {number}: {text}" for number, text in finding.evidence if finding.status != "pass"]
        self.emit(options, {"platform": options["platform"], "config": str(path), "results": results},
                  "\n".join(lines))

    def handle_run(self, options):
        from inventory.models import Device
        from policies.services import check_devices

        devices = Device.objects.filter(config_versions__isnull=False).distinct()
        if options.get("device"):
            devices = Device.objects.filter(name=options["device"])
            if not devices.exists():
                self.fail(options, "DEVICE_UNKNOWN", f"no device {options['device']!r} in the inventory.")
        summary = check_devices(devices)
        human = (f"{summary['devices_checked']} device(s) checked, {summary['devices_without_config']} without a "
                 "stored config; failing: " + ", ".join(f"{rule} {n}" for rule, n in sorted(summary["failing"].items()))
                 if summary["failing"] else "nothing fails")
        self.emit(options, summary, human)
