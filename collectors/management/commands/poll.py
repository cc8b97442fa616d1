import signal
import sys
import threading
import time

from web.commands import OneNetCommand


def _exit_on_sigterm(signum, frame):
    # `kill` (SIGTERM) ends the command through its clean-up: the run is closed and the shard processes stopped.
    sys.exit(128 + signum)


class Command(OneNetCommand):
    help = ("SNMP poll cycle over the inventory (every active device, or one with --device); --every SECONDS keeps "
            "polling, and with --json prints one JSON document per cycle, one per line (NDJSON).")
    # `poll --every S --json`: one line per cycle, flushed when the cycle ends: its figures plus "cycle" (1, 2, …),
    # or {"error": …} for a cycle refused because another one polls the same devices (the loop goes on). A single
    # cycle (the default, --once) prints one document, like every command.
    streams_ndjson = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--device", help="poll only this device")
        parser.add_argument("--once", action="store_true", help="one cycle and exit (the default)")
        parser.add_argument("--every", type=int, metavar="SECONDS",
                            help="keep polling every SECONDS (without celery beat)")

    def handle(self, *args, **options):
        from inventory.models import Device

        if options.get("device") and not Device.objects.filter(name=options["device"]).exists():
            self.fail(options, "DEVICE_UNKNOWN", f"no device named {options['device']!r} in the inventory; "
                                                 "see `manage.py inventory export --format csv`.")
        looping = bool(options.get("every")) and not options.get("once")
        own_sigterm = (threading.current_thread() is threading.main_thread()
                       and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        if own_sigterm:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self._cycles(options, looping)
        finally:
            if own_sigterm:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def _cycles(self, options, looping: bool):
        from collectors.services.polling import poll_cycle

        cycle = 0
        while True:
            cycle += 1
            result = poll_cycle(device_name=options.get("device"))
            if result.get("refused") and not looping:
                self.fail(options, result["refused"], result["message"])
            if result.get("refused"):
                self.stderr.write(f"{result['refused']}: {result['message']}")
                if options.get("json"):
                    self.write_json({"error": {"code": result["refused"], "message": result["message"],
                                               "details": []}, "cycle": cycle})
            else:
                self.emit(options, {**result, "cycle": cycle} if looping else result,
                          f"polled {result['devices_polled']} devices ({result['devices_failed']} failed), "
                          f"{result['interfaces']} interfaces, {result['samples_written']} samples in "
                          f"{result['seconds']} s")
            if not looping:
                return
            if not options.get("json"):
                self.stdout.write("")  # a blank line between the cycles a person reads; NDJSON has none
            time.sleep(options["every"])
