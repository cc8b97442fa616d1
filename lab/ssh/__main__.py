"""`python -m lab.ssh --scale demo --seed 1 --port 22 --shard 0 --shards 1 [--address-base A] [--state-dir D]
[--timer-scale F]`.

Runs the topology's SSH devices (this shard's share) until SIGTERM/SIGINT.  `--timer-scale F` (default 1.0)
multiplies the duration of every rollback timer of an unconfirmed change (VRP8 `commit trial`, Comware
`configuration commit delay`, IOS `configure terminal revert timer`): at 0.05 "1 minute" and "60 seconds" last 3 s.

Each device's management plane (VTY and SNMP ACLs, shut interfaces, management cut) is published under
`<state-dir>/mgmt/` for `python -m lab.snmp --state-dir` (the same directory).  Every device also knows the hidden,
lab-only exec command `lab-fault drop-session-after N | rescue-after SECONDS | clear` (lab/ssh/management.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from lab.ssh.server import DEFAULT_STATE_DIR, serve
from lab.topology import SCALES, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.ssh", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--address-base", default="127.10.0.1")
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    parser.add_argument("--timer-scale", type=float, default=1.0,
                        help="multiply every commit-confirm rollback timer by F (default 1.0: real time)")
    args = parser.parse_args(argv)
    if not 0 <= args.shard < args.shards:
        parser.error("--shard must be between 0 and --shards - 1")
    if not (args.timer_scale > 0 and args.timer_scale != float("inf")):
        parser.error("--timer-scale must be a positive number")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    started = time.monotonic()
    topology = generate(args.scale, args.seed, address_base=args.address_base)
    logging.getLogger("lab.ssh").info("topology %s/%d: %d devices (%.1fs)", args.scale, args.seed,
                                      len(topology.devices), time.monotonic() - started)
    try:
        asyncio.run(serve(topology, args.port, args.shard, args.shards, args.state_dir,
                          timer_scale=args.timer_scale))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
