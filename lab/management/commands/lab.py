from pathlib import Path

import yaml
from django.conf import settings

from lab.traffic import SCENARIOS
from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "The simulated extranet: lab up | down | status | inventory | traffic."

    def add_arguments(self, parser):
        # --json lives on each sub-command: argparse lets a sub-parser's default overwrite the parent's.
        sub = parser.add_subparsers(dest="action", required=True)
        up = sub.add_parser("up", help="start every lab device in the background and load the inventory")
        up.add_argument("--scale", choices=("demo", "city"), default="demo")
        up.add_argument("--seed", type=int, default=1)
        up.add_argument("--no-inventory", action="store_true", help="do not load the lab into the inventory")
        sub.add_parser("down", help="stop what `lab up` started, and nothing else")
        status = sub.add_parser("status", help="list the lab devices and how to reach them")
        status.add_argument("--check", action="store_true", help="also ask every device over SNMP and SSH")
        inv = sub.add_parser("inventory", help="generate the lab topology as an inventory, and import it")
        inv.add_argument("--scale", choices=("demo", "city"), default="demo")
        inv.add_argument("--seed", type=int, default=1)
        inv.add_argument("--output", help="write the inventory YAML to this file")
        inv.add_argument("--no-import", action="store_true", help="only write the file, do not import it")
        traffic = sub.add_parser("traffic", help="write a capture of lab traffic (office, attacks, worm outbreak)")
        traffic.add_argument("--scenario", required=True, choices=SCENARIOS)
        traffic.add_argument("--out", required=True, help="the .pcap file to write")
        traffic.add_argument("--seed", type=int, default=1)
        traffic.add_argument("--scale", choices=("demo", "city"), default="demo", help="whose IP plan to use")
        traffic.add_argument("--live", metavar="IFACE",
                             help="also inject the frames on a veth pair: IFACE here, its peer in the namespace "
                                  "onenet-lab-IFACE (both created; needs root)")
        traffic.add_argument("--speed", type=float, default=None,
                             help="with --live: pace by the capture's timestamps, this many times faster "
                                  "(default: as fast as the veth takes them)")
        traffic.add_argument("--keep", action="store_true",
                             help="with --live: keep the veth pair and namespace for more runs")
        serve = sub.add_parser("snmp-serve", help="serve .snmprec recordings unchanged (community = file stem)")
        serve.add_argument("files", nargs="+")
        serve.add_argument("--address", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=1161)
        for sub_parser in sub.choices.values():
            sub_parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    def handle(self, *args, **options):
        getattr(self, "handle_" + options["action"].replace("-", "_"))(options)

    def handle_up(self, options):
        from lab.services import LabError, up

        try:
            result = up(options["scale"], options["seed"], load_inventory=not options["no_inventory"])
        except LabError as error:
            self.fail(options, error.code, error.message)
        self.emit(options, result, up_summary(options["scale"], result))

    def handle_down(self, options):
        from lab.services import down

        result = down()
        self.emit(options, result, f"lab stopped ({result['stopped']} processes)")

    def handle_status(self, options):
        from lab.services import status

        result = status(check=options["check"])
        lines = [f"{d['name']:<28} {d['platform']:<11} {d['address']:<15} "
                 f"{'running' if d['running'] else 'stopped'}" for d in result["devices"]]
        self.emit(options, result, "\n".join(lines) or "the lab is not running")

    def handle_traffic(self, options):
        from lab.topology import generate
        from lab.traffic import write_scenario

        if options["speed"] is not None and not options["speed"] > 0:
            self.fail(options, "LIVE_SPEED_INVALID", "--speed must be a positive factor (2 = twice as fast).")
        if (options["speed"] is not None or options["keep"]) and not options["live"]:
            self.fail(options, "LIVE_IFACE_MISSING", "--speed and --keep go with --live IFACE.")
        topology = generate(options["scale"], options["seed"], settings.LAB_ADDRESS_BASE)
        info = write_scenario(options["scenario"], options["out"], options["seed"], topology)
        result = {"out": options["out"], **info}
        text = f"wrote {info['packets']} packets of {options['scenario']} traffic to {options['out']}"
        if options["live"]:
            result["live"] = self._inject(options)
            text += (f"; injected {result['live']['sent']} frames on {options['live']} "
                     f"in {result['live']['seconds']} s" + (" (veth kept)" if options["keep"] else ""))
        self.emit(options, result, text)

    def _inject(self, options) -> dict:
        import time

        from lab import live

        iface = options["live"]
        try:
            made = live.create(iface)
        except live.LiveError as error:
            self.fail(options, error.code, error.message)
        started = time.monotonic()
        try:
            sent = live.inject(iface, options["out"], speed=options["speed"])
        except live.LiveError as error:
            self.fail(options, error.code, error.message)
        finally:  # an error or Ctrl-C too: nothing is left behind unless asked
            if not options["keep"]:
                live.delete(iface)
        seconds = round(time.monotonic() - started, 3)
        return {"iface": iface, "namespace": made["namespace"], "peer": made["peer"], "sent": sent,
                "seconds": seconds, "speed": options["speed"], "kept": options["keep"]}

    def handle_snmp_serve(self, options):
        """Runs in the foreground until Ctrl-C or SIGTERM, like snmpsim's responder.

        With --json: one document once every socket is bound (what is served where), then nothing more on stdout;
        the responder's own lines go to stderr. Without: its "ready …" line, then its "stopped …" line."""
        import signal
        import subprocess
        import sys
        import threading

        missing = [f for f in options["files"] if not Path(f).is_file()]
        if missing:
            self.fail(options, "SNMPREC_MISSING", f"no such recording: {', '.join(missing)}")
        address, port = options["address"], options["port"]
        self.stderr.write(f"serving {len(options['files'])} recording(s) on {address}:{port}; "
                          "the community is each file's name without .snmprec")
        responder = subprocess.Popen([sys.executable, "-m", "lab.snmp", "--snmprec", *options["files"], "--address",
                                      address, "--port", str(port)], cwd=settings.BASE_DIR, stdout=subprocess.PIPE,
                                     text=True)
        # Ctrl-C or SIGTERM is passed on to the responder, which stops and says so; this command relays that last
        # line and ends when the responder has (a KeyboardInterrupt here could lose the line, or leave it running).
        forwarded = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                forwarded[sig] = signal.signal(sig, lambda signum, frame: responder.send_signal(signal.SIGTERM))
        try:
            ready = responder.stdout.readline()  # "ready …" once bound; "" when it exited first
            if not ready.startswith("ready"):
                if responder.poll() is None:  # it printed something else: not the responder this command knows
                    responder.terminate()
                code = responder.wait()
                self.fail(options, "SNMPREC_SERVE_FAILED", f"the SNMP responder stopped before serving (exit {code}); "
                                                           "its error is on stderr (a port in use, a bad recording, "
                                                           "two files with one name).")
            result = {"serving": True, "address": address, "port": port, "pid": responder.pid,
                      "recordings": [{"file": str(Path(f).resolve()), "community": Path(f).stem}
                                     for f in options["files"]]}
            self.emit(options, result, ready.rstrip("\n"))
            for line in responder.stdout:  # "stopped after N requests" when it ends
                (self.stderr if options.get("json") else self.stdout).write(line.rstrip("\n"))
            responder.wait()
        finally:
            for sig, handler in forwarded.items():
                signal.signal(sig, handler)
            if responder.poll() is None:
                responder.terminate()
                responder.wait()

    def handle_inventory(self, options):
        from inventory.services import ImportFailed, import_document
        from lab.services import inventory_document
        from lab.topology import generate

        topology = generate(options["scale"], options["seed"], settings.LAB_ADDRESS_BASE)
        document = inventory_document(topology, settings.LAB_SNMP_PORT, settings.LAB_SSH_PORT)
        if options.get("output"):
            Path(options["output"]).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        result = {"scale": options["scale"], "seed": options["seed"], "devices": len(topology.devices),
                  "links": len(topology.links), "regions": len(topology.regions), "agencies": len(topology.agencies)}
        if not options["no_import"]:
            try:
                result["import"] = import_document(document, f"lab:{options['scale']}:{options['seed']}").as_dict()
            except ImportFailed as error:
                self.fail(options, error.code, "the generated inventory did not import.", error.errors)
        self.emit(options, result, f"lab {options['scale']} seed {options['seed']}: {len(topology.devices)} devices, "
                                   f"{len(topology.links)} links" + ("" if options["no_import"] else ", imported"))


def _devices(count: int) -> str:
    return f"{count} device" if count == 1 else f"{count} devices"


def up_summary(scale: str, result: dict) -> str:
    """`lab demo started: 103 devices running; 1 planned device not started (logs under var/lab/logs)`: devices
    the topology plans but has not installed yet are said as such, not as a shortfall."""
    running = sum(d["running"] for d in result["devices"])
    verb = "started" if result["started"] else "already running"
    idle = len(result["devices"]) - running
    text = f"lab {scale} {verb}: {_devices(running)} running"
    if idle and result.get("running"):  # every lab process is up: the idle ones are the planned devices
        text += f"; {idle} planned {'device' if idle == 1 else 'devices'} not started"
    elif idle:
        text += f"; {_devices(idle)} not running (a lab process stopped)"
    return text + " (logs under var/lab/logs)"
