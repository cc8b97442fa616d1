"""python -m lab.snmp: serve the lab topology's SNMP agents, or `.snmprec` recordings, until SIGTERM.

    python -m lab.snmp --scale demo --seed 1 --port 161 --shard 0 --shards 1 [--address-base 127.10.0.1]
                       [--state-dir D]
    python -m lab.snmp --snmprec FILE... --address 127.0.0.1 --port 1161

With --snmprec, all files are served on the one address and the community selects the recording: the
community of `vrp_5720.snmprec` is `vrp_5720` (snmpsim's convention).  One line "ready ..." goes to stdout when
every socket is bound.  `--state-dir D`: the SSH devices' state directory (`python -m lab.ssh --state-dir D`); each
device then follows the management state they publish (SNMP ACLs, shut interfaces, management cut).  Without it
the agents ignore the devices' configs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _main(args) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    t0 = time.monotonic()
    if args.snmprec:
        from lab.snmp.agent import start_recordings

        agent = await start_recordings(args.snmprec, args.address, args.port, args.max_response)
        what = f"{len(args.snmprec)} recording(s) on {args.address}:{args.port}"
    else:
        from lab.snmp.agent import start
        from lab.topology import generate

        topology = generate(args.scale, args.seed, args.address_base)
        agent = await start(topology, args.port, args.shard, args.shards, args.started, args.max_response,
                            args.state_dir)
        what = (f"{len(agent.endpoints)} devices (shard {args.shard}/{args.shards} of {len(topology.devices)}) "
                f"on port {args.port}")
    print(f"ready {what} in {time.monotonic() - t0:.2f}s, rss {_rss_mb():.0f} MB, pid {os.getpid()}", flush=True)
    try:
        await stop.wait()
    finally:
        agent.close()
    print(f"stopped after {agent.requests} requests", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.snmp", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--address-base", default="127.10.0.1")
    parser.add_argument("--port", type=int, default=161)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--started", type=float, default=None,
                        help="lab epoch (unix seconds) the devices' uptimes count from; default: start of this month")
    parser.add_argument("--max-response", type=int, default=65000, help="largest response in bytes")
    parser.add_argument("--snmprec", nargs="+", metavar="FILE", help="serve these recordings instead")
    parser.add_argument("--state-dir", default=None,
                        help="the SSH devices' state directory: follow the management state they publish")
    parser.add_argument("--address", default="127.0.0.1", help="address for --snmprec")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not 0 <= args.shard < args.shards:
        parser.error("--shard must be in [0, --shards)")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        asyncio.run(_main(args))
    except OSError as exc:
        print(f"lab.snmp: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
