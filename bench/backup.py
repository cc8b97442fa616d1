"""SSH config backup benchmark: OneNet's parallel fetch vs sequential netmiko.

    python -m bench.backup [--quick] [--json] [--devices N] [--workers 32] [--no-tables-run]

Starts its own lab SSH devices (``python -m lab.ssh --scale city`` on 127.88.0.1.. and a free port, in a
subprocess, stopped after), takes N active devices spread over the city (200; quick: 30) and reads each
one's running config twice:

- ours: ``collectors.services.backup.fetch_many`` (the code path of ``backup_devices``: per-platform drivers,
  worker threads, normalised config), config only, so both sides do the same work; a second run with the
  ARP/MAC/LLDP tables (what ``manage.py backup`` does by default) is reported as ``ours_with_tables``;
- peer: plain netmiko, one device after another: ``ConnectHandler`` + ``send_command(show running-config /
  display current-configuration)`` + ``disconnect()``.

Figures are devices per second (higher is better); ``ratio`` is ours / peer; target ours >= 20 devices/s.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import print_report

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_BASE = "127.88.0.1"
TARGET = 20.0  # devices per second


def _free_tcp_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pick(topology, count: int):
    """`count` active devices spread evenly over the topology (every tier and vendor)."""
    active = [d for d in topology.devices if d.status == "active"]
    step = max(1, len(active) // count)
    return active[::step][:count]


def start_lab(port: int, state_dir: Path, log_path: Path, seed: int):
    from lab.services import tcp_answers
    from lab.topology import generate

    topology = generate("city", seed, address_base=ADDRESS_BASE)
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "lab.ssh", "--scale", "city", "--seed", str(seed), "--port",
                                str(port), "--address-base", ADDRESS_BASE, "--state-dir", str(state_dir)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    last = [d for d in topology.devices if d.status == "active"][-1]
    deadline = time.monotonic() + 120
    while not tcp_answers(last.address, port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the lab did not start; see {log_path}")
        time.sleep(0.2)
    return topology, process


def run_ours(devices, port: int, workers: int, with_tables: bool) -> dict:
    from collectors.services.backup import FetchTarget, fetch_many
    from lab.topology import SSH_PASSWORD, SSH_USERNAME
    from platforms import ConnectionInfo

    targets = [FetchTarget(d.name, d.platform, ConnectionInfo(d.address, port, SSH_USERNAME, SSH_PASSWORD, d.name))
               for d in devices]
    cpu, started = _cpu(), time.monotonic()
    results = fetch_many(targets, workers, with_tables=with_tables)
    wall = time.monotonic() - started
    failed = [f"{r.device_id}: {r.error}" for r in results if r.error]
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu() - cpu, 2), "devices_per_s": round(len(results) / wall, 1),
            "ok": len(results) - len(failed), "failed": failed[:5], "workers": workers,
            "config_chars": sum(len(r.config or "") for r in results),
            "arp_rows": sum(len(r.arp) for r in results), "mac_rows": sum(len(r.mac) for r in results),
            "lldp_rows": sum(len(r.lldp) for r in results)}


def run_peer(devices, port: int) -> dict:
    from netmiko import ConnectHandler

    import platforms
    from lab.topology import SSH_PASSWORD, SSH_USERNAME

    cpu, started, failed, chars = _cpu(), time.monotonic(), [], 0
    for device in devices:
        platform = platforms.get(device.platform)
        try:
            connection = ConnectHandler(device_type=platform.netmiko_type, host=device.address, port=port,
                                        username=SSH_USERNAME, password=SSH_PASSWORD)
            chars += len(connection.send_command(platform.driver.config_command))
            connection.disconnect()
        except Exception as error:  # noqa: BLE001 - count it and go on, as a script would
            failed.append(f"{device.name}: {type(error).__name__}: {error}")
    wall = time.monotonic() - started
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu() - cpu, 2), "devices_per_s": round(len(devices) / wall, 2),
            "ok": len(devices) - len(failed), "failed": failed[:5], "config_chars": chars}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 devices instead of 200")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--devices", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None, help="our worker threads (default: the setting, 32)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tables-run", action="store_true", help="skip the extra run with ARP/MAC/LLDP tables")
    args = parser.parse_args(argv)
    count = args.devices or (30 if args.quick else 200)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()  # the backup service imports models; nothing here touches the database
    from django.conf import settings

    workers = args.workers or settings.ONENET_BACKUP_WORKERS
    work = Path(tempfile.mkdtemp(prefix="onenet-bench-backup-"))
    port = _free_tcp_port(ADDRESS_BASE)
    topology, lab = start_lab(port, work / "state", work / "lab.log", args.seed)
    try:
        devices = pick(topology, count)
        ours = run_ours(devices, port, workers, with_tables=False)
        with_tables = None if args.no_tables_run else run_ours(devices, port, workers, with_tables=True)
        peer = run_peer(devices, port)
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=10)
        except subprocess.TimeoutExpired:
            lab.kill()

    ratio = round(ours["devices_per_s"] / peer["devices_per_s"], 1) if peer["devices_per_s"] else None
    platforms = {}
    for device in devices:
        platforms[device.platform] = platforms.get(device.platform, 0) + 1
    out = {
        "metric": f"config backup of {count} lab SSH devices (devices/s, higher is better)",
        "ours": ours["devices_per_s"],
        "peer": peer["devices_per_s"],
        "ratio": ratio,
        "target": f"ours >= {TARGET:g} devices/s",
        "meets": ours["devices_per_s"] >= TARGET and not ours["failed"],
        "ours_with_tables": with_tables["devices_per_s"] if with_tables else None,
        "devices": count,
        "platforms": platforms,
        "peer_desc": "sequential netmiko ConnectHandler + send_command(config command) + disconnect",
        "ours_detail": ours,
        "ours_with_tables_detail": with_tables,
        "peer_detail": peer,
        "cpus": os.cpu_count(),
    }
    print_report(out, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
