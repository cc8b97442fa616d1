"""SNMP poll cycle benchmark: OneNet's poller vs parallel net-snmp ``snmpbulkwalk``.

    python -m bench.poll [--quick] [--json] [--devices N] [--ports 24] [--concurrency 64] [--processes 2]

Both sides poll the same devices for the same OIDs (sysUpTime + the 7 columns the poller needs:
ifHCInOctets, ifHCOutOctets, ifInErrors, ifOutErrors, ifInDiscards, ifOutDiscards, ifOperStatus) with the
same number of devices in flight and the same max-repetitions. The peer runs one ``snmpbulkwalk`` per OID
(net-snmp walks one subtree per invocation), the OIDs of one device in sequence.

Agents: N generated recordings (24 ports each, community ``devNNNN``) served by the lab's own agents
(``python -m lab.snmp --snmprec ...``, several shard processes) when ``lab.snmp`` exists, else by snmpsim.
Wall time is end to end; CPU is user+sys of the poller side only (our worker processes / the snmpbulkwalk
processes), the agents' CPU is excluded.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import print_report
from collectors.snmp.client import COLUMNS, POLL_COLUMNS, SYS_UPTIME, SnmpTarget, poll_many_processes

TARGET_RATIO = 1.5
PEER_OIDS = ["1.3.6.1.2.1.1.3"] + [COLUMNS[c] for c in POLL_COLUMNS]


# ------------------------------------------------------------------ recordings


def write_recording(path: Path, n: int, ports: int) -> None:
    """One synthetic switch: system group, ifTable and ifXTable with ``ports`` interfaces."""
    lines = [
        f"1.3.6.1.2.1.1.1.0|4|Huawei Versatile Routing Platform Software VRP (R) software,Version 5.170 "
        f"(S5720 V200R011C10SPC600) bench device {n}",
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2011.2.23.291",
        f"1.3.6.1.2.1.1.3.0|67|{1000000 + n * 17}",
        "1.3.6.1.2.1.1.4.0|4|noc",
        f"1.3.6.1.2.1.1.5.0|4|dev{n:04d}",
        "1.3.6.1.2.1.1.6.0|4|bench",
    ]
    idx = range(1, ports + 1)

    def seed(i, k):
        return (n * 7919 + i * 104729 + k * 15485863) % (2**40)

    if_cols = [
        (1, lambda i: f"2|{i}"),
        (2, lambda i: f"4|GigabitEthernet0/0/{i}"),
        (3, lambda i: "2|6"),
        (4, lambda i: "2|1500"),
        (5, lambda i: "66|1000000000"),
        (6, lambda i: f"4x|0019e0{n % 256:02x}{i // 256:02x}{i % 256:02x}"),
        (7, lambda i: "2|1"),
        (8, lambda i: f"2|{1 if i % 5 else 2}"),
        (10, lambda i: f"65|{seed(i, 1) % 2**32}"),
        (13, lambda i: f"65|{seed(i, 2) % 1000}"),
        (14, lambda i: f"65|{seed(i, 3) % 100}"),
        (16, lambda i: f"65|{seed(i, 4) % 2**32}"),
        (19, lambda i: f"65|{seed(i, 5) % 1000}"),
        (20, lambda i: f"65|{seed(i, 6) % 100}"),
    ]
    for col, fn in if_cols:
        lines += [f"1.3.6.1.2.1.2.2.1.{col}.{i}|{fn(i)}" for i in idx]
    ifx_cols = [
        (1, lambda i: f"4|GE0/0/{i}"),
        (6, lambda i: f"70|{seed(i, 1)}"),
        (10, lambda i: f"70|{seed(i, 4)}"),
        (15, lambda i: "66|1000"),
        (18, lambda i: f"4|uplink to agency {n}-{i}"),
    ]
    for col, fn in ifx_cols:
        lines += [f"1.3.6.1.2.1.31.1.1.1.{col}.{i}|{fn(i)}" for i in idx]
    path.write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------ agents


def _free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


class Agents:
    """N shard processes serving the recordings; ``targets`` lists (address, port, community)."""

    def __init__(self, files: list[Path], shards: int, workdir: Path):
        self.files = files
        self.shards = max(1, min(shards, len(files)))
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.targets: list[tuple[str, int, str]] = []
        self.kind = None

    def start(self) -> None:
        use_lab = importlib.util.find_spec("lab.snmp") is not None and os.environ.get("BENCH_AGENT") != "snmpsim"
        self.kind = "lab.snmp" if use_lab else "snmpsim"
        for shard in range(self.shards):
            files = self.files[shard::self.shards]
            address = f"127.21.{shard // 250}.{shard % 250 + 1}"
            port = _free_udp_port(address)
            log = open(self.workdir / f"agent{shard}.log", "wb")  # noqa: SIM115
            env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
            if use_lab:
                cmd = [sys.executable, "-m", "lab.snmp", "--snmprec", *map(str, files), "--address", address,
                       "--port", str(port)]
            else:
                data = self.workdir / f"data{shard}"
                cache = self.workdir / f"cache{shard}"
                data.mkdir(exist_ok=True)
                cache.mkdir(exist_ok=True)
                for f in files:
                    shutil.copyfile(f, data / f.name)
                code = "import sys; from snmpsim.commands.responder import main; sys.exit(main())"
                cmd = [sys.executable, "-c", code,
                       f"--data-dir={data}", f"--cache-dir={cache}", f"--agent-udpv4-endpoint={address}:{port}",
                       "--logging-method=null", "--max-var-binds=512"]
            self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                               cwd=str(Path(__file__).resolve().parents[1]),
                                               start_new_session=True))
            self.targets += [(address, port, f.stem) for f in files]
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        from collectors.snmp.client import get_scalars

        pending = {}
        for address, port, community in self.targets:
            pending.setdefault((address, port), community)

        async def check(address, port, community):
            try:
                t = SnmpTarget(address, port, community, timeout=0.5, retries=0, deadline=2)
                return bool(await get_scalars(t, [SYS_UPTIME + ""]))
            except Exception:  # noqa: BLE001
                return False

        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, community in list(pending.items()):
                if asyncio.run(check(key[0], key[1], community)):
                    pending.pop(key)
            if any(p.poll() is not None for p in self.procs):
                break
            if pending:
                time.sleep(0.3)
        if pending:
            self.stop()
            logs = "".join((self.workdir / f"agent{i}.log").read_text(errors="replace")[-500:]
                           for i in range(self.shards))
            raise RuntimeError(f"{self.kind} agents not answering: {sorted(pending)}\n{logs}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.procs.clear()


# ------------------------------------------------------------------ the two pollers


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_ours(targets, processes: int, concurrency: int, max_varbinds: int) -> dict:
    tg = [SnmpTarget(a, p, c, name=c, timeout=2.0, retries=1, deadline=30, max_varbinds=max_varbinds)
          for a, p, c in targets]
    cpu0, self0, t0 = _children_cpu(), time.process_time(), time.perf_counter()
    per_proc = max(1, concurrency // max(1, processes))
    results, _worker_cpu = poll_many_processes(tg, processes=processes, concurrency=per_proc, return_cpu=True)
    wall = time.perf_counter() - t0
    cpu = (_children_cpu() - cpu0) + (time.process_time() - self0)
    ok = [r for r in results if r.ok]
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "devices_ok": len(ok),
        "devices_failed": len(results) - len(ok),
        "interfaces": sum(len(r.interfaces) for r in ok),
        "slowest_device_s": round(max((r.elapsed for r in results), default=0.0), 3),
        "errors": sorted({f"{r.error}: {r.error_message}" for r in results if not r.ok})[:5],
        "processes": processes,
        "concurrency_per_process": per_proc,
    }


async def _peer_async(targets, concurrency: int, reps: int, exe: str):
    sem = asyncio.Semaphore(concurrency)
    counts = {"ok": 0, "failed": 0, "lines": 0}

    async def device(address, port, community):
        async with sem:
            ok = True
            for oid in PEER_OIDS:
                proc = await asyncio.create_subprocess_exec(
                    exe, "-v2c", "-c", community, "-On", "-Oq", f"-Cr{reps}", "-t", "2", "-r", "1",
                    f"{address}:{port}", oid, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
                out, _ = await proc.communicate()
                if proc.returncode != 0 or not out:
                    ok = False
                    break
                counts["lines"] += out.count(b"\n")
            counts["ok" if ok else "failed"] += 1

    await asyncio.gather(*(device(*t) for t in targets))
    return counts


def run_peer(targets, concurrency: int, reps: int) -> dict:
    exe = shutil.which("snmpbulkwalk")
    if exe is None:
        return {"wall_s": None, "reason": "snmpbulkwalk not found (Debian package `snmp`)"}
    cpu0, self0, t0 = _children_cpu(), time.process_time(), time.perf_counter()
    counts = asyncio.run(_peer_async(targets, concurrency, reps, exe))
    wall = time.perf_counter() - t0
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(_children_cpu() - cpu0, 3),
        "orchestrator_cpu_s": round(time.process_time() - self0, 3),
        "devices_ok": counts["ok"],
        "devices_failed": counts["failed"],
        "values": counts["lines"],
        "invocations_per_device": len(PEER_OIDS),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.poll", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 devices instead of 500")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--devices", type=int, default=None)
    ap.add_argument("--ports", type=int, default=24)
    ap.add_argument("--concurrency", type=int, default=64, help="devices in flight (both sides)")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="our poller processes")
    ap.add_argument("--agents", type=int, default=2, help="agent shard processes")
    ap.add_argument("--rounds", type=int, default=1, help="repeat and keep the best of each side")
    args = ap.parse_args(argv)
    devices = args.devices or (50 if args.quick else 500)
    reps = args.ports + 2  # each column fits one response, as snmpbulkwalk -Cr does per OID
    max_varbinds = reps * len(POLL_COLUMNS) + 1

    work = Path(tempfile.mkdtemp(prefix="onenet-bench-poll-"))
    work.chmod(0o755)
    agents = None
    try:
        files = []
        for n in range(devices):
            f = work / f"dev{n:04d}.snmprec"
            write_recording(f, n, args.ports)
            files.append(f)
        agents = Agents(files, args.agents, work)
        agents.start()
        targets = agents.targets
        ours = peer = None
        for _ in range(max(1, args.rounds)):
            o = run_ours(targets, args.processes, args.concurrency, max_varbinds)
            p = run_peer(targets, args.concurrency, reps)
            if ours is None or o["wall_s"] < ours["wall_s"]:
                ours = o
            if peer is None or (p.get("wall_s") is not None and p["wall_s"] < peer["wall_s"]):
                peer = p
    finally:
        if agents is not None:
            agents.stop()
        shutil.rmtree(work, ignore_errors=True)

    ratio = None
    if peer.get("wall_s"):
        ratio = round(ours["wall_s"] / peer["wall_s"], 3)
    out = {
        "metric": f"snmp poll cycle wall time, {devices} devices x {args.ports} ports (s)",
        "ours": ours["wall_s"],
        "peer": peer.get("wall_s"),
        "ratio": ratio,
        "target": f"ours <= {TARGET_RATIO} x peer",
        "meets": (ratio is not None and ratio <= TARGET_RATIO and ours["devices_failed"] == 0),
        "peer_reason": peer.get("reason"),
        "ours_cpu_s": ours["cpu_s"],
        "peer_cpu_s": peer.get("cpu_s"),
        "cpu_ratio": (round(ours["cpu_s"] / peer["cpu_s"], 3) if peer.get("cpu_s") else None),
        "devices": devices,
        "ports": args.ports,
        "concurrency": args.concurrency,
        "agents": f"{agents.kind} x {agents.shards} processes" if agents else None,
        "oids": ["sysUpTime"] + list(POLL_COLUMNS),
        "ours_detail": ours,
        "peer_detail": peer,
        "cpus": os.cpu_count(),
    }
    print_report(out, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
