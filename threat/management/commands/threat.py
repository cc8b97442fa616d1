"""`manage.py threat scan|sensor|import-eve|locate|contain`: the threat app's operator commands."""

import os
import signal
import threading

from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "Threat detection: scan captures, run the live sensor, import Suricata EVE alerts."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        scan = subcommands.add_parser("scan", help="analyse capture files (pcap/pcapng, gzip'd too)")
        scan.add_argument("paths", nargs="+", metavar="PCAP")
        scan.add_argument("--ingest", action="store_true", help="store the alerts in the triage queue")
        scan.add_argument("--no-locate", action="store_true", help="with --ingest: skip the switch-port look-up")
        sensor = subcommands.add_parser("sensor", help="live capture sensor (needs CAP_NET_RAW)")
        sensor.add_argument("--iface", required=True)
        sensor.add_argument("--seconds", type=float, default=None, help="stop after this long (default: run on)")
        sensor.add_argument("--flush", type=float, default=0.5, help="seconds between database flushes (≤ 1)")
        sensor.add_argument("--no-locate", action="store_true", help="skip the switch-port look-up")
        eve = subcommands.add_parser("import-eve", help="import Suricata EVE JSON alerts")
        eve.add_argument("path", metavar="FILE")
        eve.add_argument("--no-locate", action="store_true", help="skip the switch-port look-up")
        locate = subcommands.add_parser("locate", help="find an alert's switch port again")
        locate.add_argument("alert", type=int)
        for sub in (scan, sensor, eve, locate):
            super().add_arguments(sub)

    def handle(self, *args, **options):
        from threat.services import ThreatError

        handler = getattr(self, "handle_" + options["subcommand"].replace("-", "_"))
        try:
            handler(options)
        except ThreatError as error:
            self.fail(options, error.code, error.message)

    def handle_scan(self, options):
        from threat.services.scan import scan_captures

        result = scan_captures(options["paths"], ingest=options["ingest"], locate=not options["no_locate"])
        lines = [f"{a['severity']:8} {a['kind']:20} {a['src']} -> {a['dst'] or '*'}:{a['dport'] or ''} "
                 f"x{a['count']} {a['first_seen']}" for a in result["alerts"]]
        lines.append(f"{len(result['alerts'])} alerts, {result['packets']} packets, {result['bytes']} bytes in "
                     f"{result['seconds']} s")
        lines += [f"warning: {w}" for w in result["warnings"]]
        if "ingested" in result:
            lines.append("stored: created {created}, updated {updated}, unchanged {unchanged}".format(
                **result["ingested"]))
        self.emit(options, result, "\n".join(lines))

    def handle_sensor(self, options):
        from threat.services import ThreatError
        from threat.services.sensor import Sensor

        iface = options["iface"]
        if not os.path.exists(f"/sys/class/net/{iface}"):
            raise ThreatError("THREAT_IFACE_UNKNOWN", f"no network interface {iface!r} here; see `ip link`.")
        flush = min(1.0, max(0.05, options["flush"]))
        sensor = Sensor(iface, flush_s=flush, locate=not options["no_locate"])
        # SIGTERM (systemd, kill) ends the run as --seconds does: last flush, then the one summary document.
        own_sigterm = (threading.current_thread() is threading.main_thread()
                       and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        if own_sigterm:
            signal.signal(signal.SIGTERM, lambda signum, frame: sensor.stop())
        until = f"for {options['seconds']} s" if options["seconds"] is not None else "until Ctrl-C or SIGTERM"
        self.stderr.write(f"sensor on {iface}: capturing {until}")
        try:
            result = sensor.run(options["seconds"])
        except PermissionError:
            raise ThreatError("THREAT_CAPTURE_PERMISSION", "capturing needs root or CAP_NET_RAW; run the sensor "
                                                           "with that capability.") from None
        except KeyboardInterrupt:
            sensor.stop()
            result = {"iface": iface, "packets": sensor.scanner.packets, "created": sensor.created,
                      "updated": sensor.updated, "alerts": sensor.scanner.alerts()}
        finally:
            if own_sigterm:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.emit(options, result, f"{iface}: {result['packets']} packets, {len(result['alerts'])} alerts "
                                   f"(created {result['created']}, updated {result['updated']})")

    def handle_import_eve(self, options):
        from threat.services.eve import import_eve

        result = import_eve(options["path"], locate=not options["no_locate"])
        lines = [f"line {b['line']}: {b['code']}: {b['error']}" for b in result["bad_lines"]]
        lines.append(f"{result['events']} alert events, {result['skipped']} other events, "
                     f"{len(result['bad_lines'])} bad lines; created {result['created']}, updated "
                     f"{result['updated']}, unchanged {result['unchanged']}")
        self.emit(options, result, "\n".join(lines))

    def handle_locate(self, options):
        from threat.models import Alert
        from threat.services import ThreatError
        from threat.services.enrichment import locate_alert

        if not Alert.objects.filter(pk=options["alert"]).exists():
            raise ThreatError("THREAT_ALERT_UNKNOWN", f"no alert {options['alert']}.")
        found = locate_alert(options["alert"], ssh=True)
        alert = Alert.objects.select_related("switch").get(pk=options["alert"])
        result = {"alert": alert.pk, "located": found, "mac": alert.mac,
                  "switch": alert.switch.name if alert.switch else None, "port": alert.switch_port}
        self.emit(options, result, f"alert {alert.pk}: {alert.mac or '?'} {result['switch'] or '?'} "
                                   f"{alert.switch_port or '?'}")
