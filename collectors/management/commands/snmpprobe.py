from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "Identify one device over SNMP and read its interfaces; no inventory needed."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("target", metavar="HOST[:PORT]")
        parser.add_argument("--community", default="public")
        parser.add_argument("--snmp-version", choices=("1", "2c", "3"), default="2c")
        parser.add_argument("--user", help="SNMPv3 user (authNoPriv, SHA)")
        parser.add_argument("--auth-key", help="SNMPv3 auth passphrase")
        parser.add_argument("--timeout", type=float, default=2.0, help="seconds per request")

    def handle(self, *args, **options):
        from collectors.snmp.client import SnmpError
        from collectors.snmp.probe import probe

        host, _, port = options["target"].rpartition(":") if options["target"].count(":") == 1 else (
            options["target"], "", "")
        host = host or options["target"]
        if port and not port.isdigit():
            self.fail(options, "TARGET_INVALID", f"{options['target']!r} is not HOST or HOST:PORT.")
        v3 = {"user": options["user"], "auth_key": options["auth_key"]} if options["snmp_version"] == "3" else {}
        try:
            result = probe(host, int(port or 161), options["community"], options["snmp_version"],
                           timeout=options["timeout"], **v3)
        except SnmpError as error:
            code = {"timeout": "SNMP_NO_ANSWER", "auth": "SNMP_AUTH_FAILED"}.get(error.kind, "SNMP_BAD_ANSWER")
            hint = {"SNMP_NO_ANSWER": "check the address, port and community (a wrong v2c community looks like "
                                      "silence)."}.get(code, "")
            self.fail(options, code, f"{options['target']}: {error.message}. {hint}".strip())
        system = result["system"]
        lines = [f"{system['sysName']}: {system['platform'] or 'unknown platform'} {system['vendor'] or ''} "
                 f"{system['model'] or ''} {system['os_version'] or ''}".strip()]
        lines += [f"  {i['ifIndex']:>5} {i['ifName'] or i['ifDescr'] or '':<28} {i['oper_status'] or '':<6} "
                  f"{i['speed_bps'] or 0}" for i in result["interfaces"]]
        self.emit(options, result, "\n".join(lines))
