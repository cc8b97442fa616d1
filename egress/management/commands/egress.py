from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = ("Render the unified egress policy as a vendor's config, or verify the stored configs against it "
            "(the SMB/NetBIOS block where it must be enforced, no rogue default route or NAT).")

    def add_arguments(self, parser):
        # --json lives on each sub-command: argparse lets a sub-parser's default overwrite the parent's.
        sub = parser.add_subparsers(dest="action", required=True)
        render = sub.add_parser("render", help="print the egress block as one platform's config lines")
        render.add_argument("--platform", required=True, help="platform slug: huawei_vrp, hp_comware, cisco_ios, "
                                                              "ruijie_os")
        render.add_argument("--policy", help="a policy file instead of egress/policy.yaml")
        render.add_argument("--json", action="store_true")
        verify = sub.add_parser("verify", help="check each device's latest stored config and keep the results")
        verify.add_argument("--device", help="verify only this device")
        verify.add_argument("--policy", help="a policy file instead of egress/policy.yaml")
        verify.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        from egress.services.policy import default_policy, load_policy

        policy = load_policy(options["policy"]) if options.get("policy") else default_policy()
        if options["action"] == "render":
            self._render(options, policy)
        else:
            self._verify(options, policy)

    def _render(self, options, policy):
        import platforms
        from egress.services.render import render_platform

        result = render_platform(options["platform"], policy)
        human = []
        for block in result["blocks"]:
            where = block["device"] or f"placeholder interface {block['interfaces'][0]}"
            comment = platforms.get(result["platform"]).grammar.separator  # a line the device reads as a comment
            human += [f"{comment} {result['name']}: {where}", *block["lines"]]
        self.emit(options, result, "\n".join(human) + "\n")

    def _verify(self, options, policy):
        from egress.services.verify import verify_devices
        from inventory.models import Device

        devices = Device.objects.all()
        if options.get("device"):
            devices = devices.filter(name=options["device"])
            if not devices.exists():
                self.fail(options, "DEVICE_UNKNOWN", f"no device named {options['device']!r} in the inventory.")
        result = verify_devices(devices, policy)
        lines = []
        for finding in result["findings"]:
            lines.append(f"{finding['device']} ({finding['site'] or '-'}, {finding['agency'] or '-'}) "
                         f"{finding['rule']}: {finding['message']}")
            lines += [f"  line {number}: {text}" for number, text in finding["evidence"]]
            if finding["remediation"]:
                lines += ["  remediation:", *(f"    {line}" for line in finding["remediation"])]
        lines += [f"{error['device']}: {error['code']}: {error['message']}" for error in result["errors"]]
        if result["not_checked"]:
            lines.append(f"not checked (no stored config): {', '.join(result['not_checked'])}")
        lines.append(", ".join(f"{rule}: {counts['fail']} fail, {counts['pass']} pass"
                               for rule, counts in result["summary"].items()))
        lines.append(f"{result['checked']} devices checked in {result['seconds']} s")
        self.emit(options, result, "\n".join(lines))
