"""Live lab traffic: a capture's frames replayed onto a veth pair in a network namespace the lab creates.

`create(IFACE)` makes a veth pair whose end IFACE stays in the root namespace (where a sensor listens) and
whose peer, `lab0`, lives in the namespace `onenet-lab-<IFACE>`; `inject(IFACE, FILE)` runs
`ip netns exec onenet-lab-<IFACE> python -m lab.live replay FILE lab0`, so the frames are written from inside
the namespace onto the peer and arrive on IFACE; `delete(IFACE)` removes the namespace and the pair.

Frames only ever go onto a veth pair this module created: IFACE is refused when it exists and is not the
root end of our pair. Neither end has an address and IPv6 is off on both, so the kernel adds nothing of its
own; on IFACE strict reverse-path filtering and arp_ignore=8 make the root namespace drop the replayed
frames rather than answer them (nothing is routed back out anywhere else).

No Django import at module level: `replay()` runs inside the namespace in a bare interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from web.errors import OneNetError

PEER = "lab0"  # the injecting end's name inside our own namespace
NAMESPACE_PREFIX = "onenet-lab-"
IFACE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")  # IFNAMSIZ - 1
ROOT = Path(__file__).resolve().parent.parent
FAST_BURST = 200  # frames between short pauses when replaying as fast as possible


class LiveError(OneNetError):
    """An operator-facing error of the lab: a stable code and what to do."""


def namespace_for(iface: str) -> str:
    return NAMESPACE_PREFIX + iface


def _check_name(iface: str) -> None:
    if not IFACE_NAME.match(iface or ""):
        raise LiveError("LIVE_IFACE_INVALID", f"{iface!r} is not a usable interface name (letters, digits, "
                                              "_ . -, at most 15 characters, starting with a letter).")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise LiveError("LIVE_NO_IPROUTE", "the `ip` command (iproute2) is not installed.") from None
    if check and result.returncode != 0:
        raise LiveError("LIVE_IP_FAILED", f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _link(iface: str, namespace: str | None = None) -> dict | None:
    """`ip -d -j link show IFACE` as a dict, or None when there is no such interface."""
    args = (["-n", namespace] if namespace else []) + ["-d", "-j", "link", "show", "dev", iface]
    result = _ip(*args, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    links = json.loads(result.stdout)
    return links[0] if links else None


def namespace_exists(namespace: str) -> bool:
    return Path("/run/netns", namespace).exists()


def is_ours(iface: str) -> bool:
    """IFACE is the root end of a veth pair whose peer is `lab0` in `onenet-lab-IFACE`."""
    namespace = namespace_for(iface)
    host = _link(iface)
    if not host or host.get("linkinfo", {}).get("info_kind") != "veth" or not namespace_exists(namespace):
        return False
    peer = _link(PEER, namespace)
    return bool(peer and peer.get("linkinfo", {}).get("info_kind") == "veth"
                and peer.get("link_index") == host.get("ifindex") and host.get("link_index") == peer.get("ifindex"))


def exists(iface: str) -> bool:
    """Either half of the pair (the root end or the namespace) is still there."""
    return _link(iface) is not None or namespace_exists(namespace_for(iface))


def _sysctl(path: str, value: str, namespace: str | None = None) -> None:
    if namespace is None:
        Path("/proc/sys", path).write_text(value)
    else:
        _run_in(namespace, ["sh", "-c", f"echo {value} > /proc/sys/{path}"])


def _run_in(namespace: str, command: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", "netns", "exec", namespace, *command], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        raise LiveError("LIVE_NETNS_EXEC_FAILED", f"{' '.join(command)} in {namespace}: "
                                                  f"{(result.stderr or result.stdout).strip()[-1500:]}")
    return result


def create(iface: str) -> dict:
    """Create (or reuse) the namespace and veth pair for IFACE; both ends up, no address, no IPv6."""
    _check_name(iface)
    if os.geteuid() != 0:
        raise LiveError("LIVE_NEEDS_ROOT", "creating a network namespace and a veth pair needs root.")
    namespace = namespace_for(iface)
    if is_ours(iface):
        created = False
    else:
        if _link(iface) is not None:
            raise LiveError("LIVE_IFACE_TAKEN", f"{iface} already exists and is not a lab veth (its peer is not "
                                                f"{PEER} in {namespace}); the lab sends only on a pair it creates.")
        if namespace_exists(namespace):  # a namespace left without its pair: start again
            _ip("netns", "del", namespace, check=False)
        _ip("netns", "add", namespace)
        try:
            _ip("link", "add", iface, "type", "veth", "peer", "name", PEER, "netns", namespace)
        except LiveError:
            _ip("netns", "del", namespace, check=False)
            raise
        created = True
    try:
        _sysctl(f"net/ipv6/conf/{iface}/disable_ipv6", "1")
        _sysctl(f"net/ipv4/conf/{iface}/rp_filter", "1")
        _sysctl(f"net/ipv4/conf/{iface}/arp_ignore", "8")
        _sysctl(f"net/ipv6/conf/{PEER}/disable_ipv6", "1", namespace)
        _ip("link", "set", iface, "up")
        _ip("-n", namespace, "link", "set", PEER, "up")
    except (LiveError, OSError):
        if created:
            delete(iface)
        raise
    return {"iface": iface, "namespace": namespace, "peer": PEER, "created": created}


def delete(iface: str, wait: float = 5.0) -> dict:
    """Remove our namespace (which takes the veth pair with it) and wait until IFACE is gone."""
    _check_name(iface)
    namespace = namespace_for(iface)
    removed = False
    if namespace_exists(namespace):
        ours = is_ours(iface)
        _ip("netns", "del", namespace, check=False)
        removed = True
        if ours:
            # Destroying the namespace destroys lab0, and with it the root end; the kernel does it in the background.
            deadline = time.monotonic() + wait
            while _link(iface) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            link = _link(iface)
            if link is not None and link.get("linkinfo", {}).get("info_kind") == "veth":
                _ip("link", "del", iface, check=False)
    return {"iface": iface, "namespace": namespace, "removed": removed}


def inject(iface: str, path, speed: float | None = None, timeout: float = 600) -> int:
    """Replay the capture at `path` from inside IFACE's namespace onto the peer; returns the frames sent."""
    _check_name(iface)
    if not is_ours(iface):
        raise LiveError("LIVE_NOT_CREATED", f"{iface} is not a lab veth; create it first (lab.live.create).")
    command = [sys.executable, "-m", "lab.live", "replay", str(Path(path).resolve()), PEER]
    if speed:
        command += ["--speed", repr(float(speed))]
    result = _run_in(namespace_for(iface), command, timeout=timeout)
    return int(result.stdout.strip().splitlines()[-1])


def replay(iface: str, path, pps: float | None = None, speed: float | None = None) -> int:
    """Send a capture's frames out of `iface` (tcpreplay-like, for the lab and tests); returns frames sent.

    `speed` paces the frames by the capture's timestamps, compressed by that factor (2 = twice as fast);
    `pps` sends at a fixed rate; neither: as fast as the veth takes them. Only for interfaces the caller created
    (a veth in the lab's or a test's own namespace): it writes raw frames.
    """
    from threat.engine.pcapio import read_frames

    sent = 0
    gap = 1.0 / pps if pps else 0.0
    first_ts = started = None
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        for ts, _linktype, frame in read_frames(path, []):
            if speed:
                if first_ts is None:
                    first_ts, started = ts, time.monotonic()
                delay = (ts - first_ts) / speed - (time.monotonic() - started)
                if delay > 0:
                    time.sleep(delay)
            sock.send(frame)
            sent += 1
            if gap:
                time.sleep(gap)
            elif not speed and sent % FAST_BURST == 0:
                time.sleep(0.001)  # let the receiver keep up: a veth queue is not infinite
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.live", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    rep = sub.add_parser("replay", help="send FILE's frames out of IFACE (run it inside the lab's namespace)")
    rep.add_argument("file")
    rep.add_argument("iface")
    rep.add_argument("--speed", type=float, default=None, help="pace by the capture's timestamps, this much faster")
    rep.add_argument("--pps", type=float, default=None, help="a fixed rate instead")
    args = parser.parse_args(argv)
    print(replay(args.iface, args.file, pps=args.pps, speed=args.speed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
