"""Capture scan benchmark (DESIGN "Performance"): our scanner vs tshark and vs a plain scapy loop.

    python -m bench.threat [--quick] [--size-mb N] [--json]

Builds a mixed lab capture (office traffic with SMB2 file shares, web and DNS, plus an EternalBlue +
DoublePulsar attack) under var/bench/, then on that same file measures:
- ours: `threat.engine.scan_files` in a fresh process (packets/s, wall time, peak RSS);
- tshark: `tshark -n -r FILE -Y smb -T fields ...` (packets of the file / wall time);
- scapy: `for p in PcapReader(f): p.haslayer(TCP)` over a sample, extrapolated to packets/s.
Targets: ≥ 1.0× tshark, ≥ 30× scapy, peak RSS ≤ 250 MB. Logs go to stderr, one JSON document to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
TARGET_TSHARK = 1.0
TARGET_SCAPY = 30.0
TARGET_RSS_MB = 250.0

_OURS = """
import json, resource, sys, time
from threat.engine import scan_files
started = time.perf_counter()
result = scan_files([sys.argv[1]])
wall = time.perf_counter() - started
print(json.dumps({"packets": result["packets"], "bytes": result["bytes"], "seconds": wall,
                  "alerts": sorted({a["kind"] for a in result["alerts"]}), "warnings": result["warnings"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_capture(size_mb: int) -> Path:
    from lab.traffic import big_capture

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"threat-{size_mb}mb.pcap"
    if path.exists() and path.stat().st_size >= size_mb * 1_000_000:
        log(f"reusing {path} ({path.stat().st_size / 1e6:.0f} MB)")
        return path
    log(f"building {path} ({size_mb} MB) ...")
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    big_capture(tmp, size_mb * 1_000_000, seed=1)
    tmp.replace(path)
    log(f"built in {time.perf_counter() - started:.1f}s")
    return path


def measure_ours(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    output = subprocess.run([sys.executable, "-c", _OURS, str(path)], capture_output=True, text=True, check=True,
                            cwd=ROOT, env=env).stdout
    result = json.loads(output)
    result["packets_per_s"] = result["packets"] / result["seconds"]
    return result


def measure_tshark(path: Path, packets: int) -> dict:
    tshark = shutil.which("tshark")
    if not tshark:
        return {"packets_per_s": None, "reason": "tshark not installed (Debian package `tshark`)"}
    command = [tshark, "-n", "-r", str(path), "-Y", "smb", "-T", "fields", "-e", "frame.number", "-e", "ip.src",
               "-e", "ip.dst", "-e", "smb.cmd", "-e", "smb.mid"]
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        return {"packets_per_s": None, "reason": f"tshark exited with {completed.returncode}"}
    return {"packets_per_s": packets / wall, "seconds": wall, "smb_frames": completed.stdout.count(b"\n"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "command": " ".join(command[1:])}


def measure_scapy(path: Path, sample: int) -> dict:
    from scapy.layers.inet import TCP
    from scapy.utils import PcapReader

    count = 0
    started = time.perf_counter()
    with PcapReader(str(path)) as reader:
        for packet in reader:
            packet.haslayer(TCP)
            count += 1
            if count >= sample:
                break
    wall = time.perf_counter() - started
    return {"packets_per_s": count / wall, "sample_packets": count, "seconds": wall}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a ~20 MB capture (under a minute)")
    parser.add_argument("--size-mb", type=int, default=None, help="capture size in MB (default 200, quick 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON document (always on)")
    args = parser.parse_args(argv)
    size_mb = args.size_mb or (20 if args.quick else 200)

    path = build_capture(size_mb)
    log("scanning with threat.engine ...")
    ours = measure_ours(path)
    log(f"ours: {ours['packets']} packets in {ours['seconds']:.2f}s = {ours['packets_per_s']:.0f} packets/s, "
        f"peak RSS {ours['peak_rss_mb']:.0f} MB")
    log("running tshark ...")
    tshark = measure_tshark(path, ours["packets"])
    log(f"tshark: {tshark}")
    log("running the scapy loop on a sample ...")
    scapy = measure_scapy(path, 3000 if args.quick else 10000)
    log(f"scapy: {scapy}")

    tshark_ratio = ours["packets_per_s"] / tshark["packets_per_s"] if tshark["packets_per_s"] else None
    scapy_ratio = ours["packets_per_s"] / scapy["packets_per_s"]
    meets = (tshark_ratio is None or tshark_ratio >= TARGET_TSHARK) and scapy_ratio >= TARGET_SCAPY \
        and ours["peak_rss_mb"] <= TARGET_RSS_MB
    report = {
        "metric": "capture_scan_packets_per_s",
        "ours": round(ours["packets_per_s"]),
        "peer": round(tshark["packets_per_s"]) if tshark["packets_per_s"] else None,
        "ratio": round(tshark_ratio, 2) if tshark_ratio else None,
        "target": TARGET_TSHARK,
        "meets": meets,
        "peer_name": "tshark -Y smb",
        "peer_reason": tshark.get("reason"),
        "scapy": {"packets_per_s": round(scapy["packets_per_s"]), "ratio": round(scapy_ratio, 1),
                  "target": TARGET_SCAPY, "meets": scapy_ratio >= TARGET_SCAPY,
                  "sample_packets": scapy["sample_packets"]},
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "rss_target_mb": TARGET_RSS_MB,
        "capture": {"path": str(path.relative_to(ROOT)), "bytes": path.stat().st_size, "packets": ours["packets"]},
        "ours_seconds": round(ours["seconds"], 3),
        "alerts": ours["alerts"],
        "tshark": {k: v for k, v in tshark.items() if k != "packets_per_s"},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
