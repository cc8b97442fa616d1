"""Change pipeline benchmark: approve → confirmed, for one device and for N lab devices in one change.

    python -m bench.changes [--quick] [--json] [--devices N]

Starts its own demo lab (SSH devices and SNMP agents on 127.87.0.1.. and free ports, in subprocesses, stopped
after) and its own SQLite database under a temporary var/, imports the lab as the inventory, and pushes a
harmless line (a description on each device's last interface) through the whole pipeline, in this process
(`changes.services.pipeline.INLINE`: what a worker does, without the broker hop):

- ours: `requests.approve` of a change that was dry-run first, until every device is confirmed: take the device,
  pre-snapshot, commit with the device's commit-confirm, post-check (a new SSH session, SNMP, the lines,
  compliance), confirm, store the backup version, audit. Timed for 1 device, then for N (100; quick: 20) in one
  change with no pilot, `ONENET_PUSH_WORKERS` at a time.
- peer: plain netmiko, one device after another: `ConnectHandler` + `send_config_set(lines)` (+ `commit` on a
  two-stage VRP device) + `disconnect()`: no dry run, no commit-confirm, no post-check, no record; timed on 10 of
  the devices (netmiko takes seconds per device) and given as devices/s.

The demo lab has about 70 devices without planted faults, so a change to more than 60 runs on the city lab.

Figures are devices per second for the N-device change (higher is better); `ratio` is ours / peer. Target: the
N-device change confirmed in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.backup import _free_tcp_port
from bench.report import print_report

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_BASE = "127.87.0.1"
TARGET_S = 60.0
PEER_SAMPLE = 10


def start_lab(scale: str, ssh_port: int, snmp_port: int, work: Path):
    from lab.services import snmp_answers, tcp_answers
    from lab.topology import generate

    topology = generate(scale, 1, address_base=ADDRESS_BASE)
    shards = 1 if scale == "demo" else 2  # as `lab up`: two processes spread a city's sessions over both cores
    common = ["--scale", scale, "--seed", "1", "--address-base", ADDRESS_BASE, "--state-dir", str(work / "lab"),
              "--shards", str(shards)]
    processes = []
    for kind, port in (("ssh", ssh_port), ("snmp", snmp_port)):
        for shard in range(shards):
            log = open(work / f"{kind}-{shard}.log", "wb")  # noqa: SIM115 - the process keeps it open
            processes.append(subprocess.Popen([sys.executable, "-m", f"lab.{kind}", "--port", str(port), "--shard",
                                               str(shard), *common], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    last = [d for d in topology.devices if d.status == "active" and not d.faults][-1]
    deadline = time.monotonic() + 120
    while not (tcp_answers(last.address, ssh_port) and snmp_answers(last.address, snmp_port, last.snmp_community)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            for process in processes:
                process.kill()
            raise SystemExit(f"the lab did not start; see {work}")
        time.sleep(0.2)
    return topology, processes


def setup_database(topology, ssh_port: int, snmp_port: int):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from inventory.services import import_document
    from lab.services import inventory_document
    from web.models import Profile

    call_command("migrate", verbosity=0)
    import_document(inventory_document(topology, snmp_port, ssh_port), "bench")
    users = []
    for name in ("alice", "bob"):
        user = get_user_model().objects.create_user(name)
        Profile.objects.create(user=user, role="engineer")
        users.append(user)
    return users


def lines_for(device) -> list[str]:
    return [f"interface {device.interfaces[-1].name}", " description onenet-bench"]


def run_ours(alice, bob, devices) -> dict:
    from changes.services import dry_run, requests
    from inventory.models import Device

    rows = {d.name: Device.objects.get(name=d.name).pk for d in devices}
    plan = requests.Plan(f"bench {len(devices)}", "benchmark", {rows[d.name]: lines_for(d) for d in devices})
    started = time.monotonic()
    change = dry_run.prepare(requests.create(alice, plan, confirm_timeout=1200, pilot_size=0))
    dry_run_s = time.monotonic() - started
    started = time.monotonic()
    change = requests.approve(change, bob)
    seconds = time.monotonic() - started
    statuses = list(change.tasks.values_list("status", flat=True))
    failed = [f"{t.device.name}: {t.status}: {t.reason}" for t in change.tasks.select_related("device")
              if t.status != "confirmed"]
    return {"approve_to_confirmed_s": round(seconds, 2), "dry_run_s": round(dry_run_s, 2),
            "devices_per_s": round(len(devices) / seconds, 2), "confirmed": statuses.count("confirmed"),
            "failed": failed[:5], "status": change.status}


def run_peer(devices, ssh_port: int) -> dict:
    from netmiko import ConnectHandler

    import platforms
    from lab.ssh.configs import is_two_stage
    from lab.topology import SSH_PASSWORD, SSH_USERNAME

    started, failed = time.monotonic(), []
    for device in devices:
        lines = [line.strip() for line in lines_for(device)] + (["commit"] if is_two_stage(device) else [])
        try:
            connection = ConnectHandler(device_type=platforms.get(device.platform).netmiko_type, host=device.address,
                                        port=ssh_port, username=SSH_USERNAME, password=SSH_PASSWORD)
            connection.send_config_set(lines)
            connection.disconnect()
        except Exception as error:  # noqa: BLE001 - count it and go on, as a script would
            failed.append(f"{device.name}: {type(error).__name__}: {error}")
    seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "devices_per_s": round(len(devices) / seconds, 2),
            "ok": len(devices) - len(failed), "failed": failed[:5]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.changes", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 devices instead of 100")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--devices", type=int, default=None)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="onenet-bench-changes-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="web.settings", ONENET_VAR_DIR=str(work / "var"),
                      DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
                      ONENET_SECRET_KEY=secrets.token_urlsafe(60), ONENET_CREDENTIAL_KEY=_fernet_key())
    os.environ.pop("CELERY_BROKER_URL", None)
    (work / "var").mkdir(mode=0o700)
    import django

    django.setup()
    from django.conf import settings

    from changes.services.pipeline import INLINE

    wanted = args.devices or (20 if args.quick else 100)
    ssh_port, snmp_port = _free_tcp_port(ADDRESS_BASE), _free_tcp_port(ADDRESS_BASE)
    # the demo lab has about 70 devices without planted faults; a change to more goes to the city lab
    topology, lab = start_lab("demo" if wanted <= 60 else "city", ssh_port, snmp_port, work)
    INLINE.set(True)
    try:
        alice, bob = setup_database(topology, ssh_port, snmp_port)
        candidates = [d for d in topology.devices if d.status == "active" and not d.faults]
        count = min(wanted, len(candidates) - 1)
        one = run_ours(alice, bob, candidates[:1])
        many = run_ours(alice, bob, candidates[1:count + 1])
        # netmiko takes seconds per device (its prompt and delay handling): timed on a sample of the same devices
        # (the line already there) and given as devices/s
        peer = run_peer(candidates[1:min(count, PEER_SAMPLE) + 1], ssh_port)
    finally:
        for process in lab:
            process.terminate()
        for process in lab:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    ratio = round(many["devices_per_s"] / peer["devices_per_s"], 2) if peer["devices_per_s"] else None
    out = {
        "metric": f"change of {count} lab devices, approve → every device confirmed (devices/s, higher is better)",
        "ours": many["devices_per_s"],
        "peer": peer["devices_per_s"],
        "ratio": ratio,
        "target": f"{count} devices confirmed in < {TARGET_S:g} s",
        "meets": many["approve_to_confirmed_s"] < TARGET_S and not many["failed"],
        "one_device_approve_to_confirmed_s": one["approve_to_confirmed_s"],
        "many_devices_approve_to_confirmed_s": many["approve_to_confirmed_s"],
        "devices": count,
        "push_workers": settings.ONENET_PUSH_WORKERS,
        "peer_desc": f"sequential netmiko ConnectHandler + send_config_set (+ commit on VRP8) + disconnect, no checks, "
                     f"on {min(count, PEER_SAMPLE)} of the devices",
        "ours_one": one, "ours_many": many, "peer_detail": peer, "cpus": os.cpu_count(),
    }
    print_report(out, args.json)
    return 0


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


if __name__ == "__main__":
    sys.exit(main())
