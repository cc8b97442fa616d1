"""`manage.py lab up / status / down`, the real commands in subprocesses, as an operator runs them.

Each run gets its own var/ directory (ONENET_VAR_DIR: SQLite database, pid/state files, logs), its own loopback
range 127.<100-199>.0.0/16 and its own high ports, and no DATABASE_URL, so it shares nothing with a demo lab,
the session's test lab or another test session. `lab down` must stop exactly what `lab up` started: no process
of its process groups left, no socket listening in its range, and a bystander process still alive.
"""

import ipaddress
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.services import snmp_answers
from lab.topology import SNMP_COMMUNITY, generate
from tests.conftest import TEST_LAB

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab


def _listening(network: ipaddress.IPv4Network) -> list[str]:
    """TCP sockets in LISTEN and bound UDP sockets whose local address is in `network` (this namespace)."""
    found = []
    for proto in ("tcp", "udp"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            ip = ipaddress.IPv4Address(bytes.fromhex(address)[::-1])
            if ip in network and (proto == "udp" or fields[3] == "0A"):
                found.append(f"{proto} {ip}:{int(port, 16)}")
    return found


def _free_octet() -> int:
    taken = {int(TEST_LAB["address_base"].split(".")[1]), 10}
    for _ in range(100):
        octet = random.randint(100, 199)
        if octet not in taken and not _listening(ipaddress.IPv4Network(f"127.{octet}.0.0/16")):
            return octet
    pytest.fail("no free 127.<100-199>.0.0/16 range for the lab lifecycle test")


def _process_groups() -> dict[int, int]:
    """pid -> process group of every process."""
    groups = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            groups[int(stat.parent.name)] = int(stat.read_text().rsplit(") ", 1)[1].split()[2])
        except (OSError, IndexError, ValueError):
            continue
    return groups


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class LabRun:
    def __init__(self, var_dir: Path):
        octet = _free_octet()
        snmp_port = random.randint(30000, 59000)
        self.network = ipaddress.IPv4Network(f"127.{octet}.0.0/16")
        self.address_base = f"127.{octet}.0.1"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ONENET_LAB_ADDRESS_BASE")}
        self.env.update(ONENET_VAR_DIR=str(var_dir), ONENET_LAB_ADDRESS_BASE=self.address_base,
                        ONENET_LAB_SNMP_PORT=str(snmp_port), ONENET_LAB_SSH_PORT=str(snmp_port + 1))
        self.var_dir = var_dir

    def manage(self, *args, timeout=240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def lab(self, *args, timeout=240) -> dict:
        result = self.manage("lab", *args, "--json", timeout=timeout)
        assert result.returncode == 0, f"lab {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    lab_run = LabRun(tmp_path_factory.mktemp("lab-var"))
    assert lab_run.manage("init").returncode == 0  # var/ and its keys, as ./onenet setup makes them
    migrate = lab_run.manage("migrate", "-v0")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    assert (lab_run.var_dir / "onenet.sqlite3").exists()  # the subprocess used its own SQLite file
    started = time.monotonic()
    lab_run.first = lab_run.lab("up")
    lab_run.up_seconds = time.monotonic() - started
    lab_run.topology = generate("demo", 1, lab_run.address_base)
    yield lab_run
    # Whatever happened above, leave nothing running.
    lab_run.manage("lab", "down")
    for process in lab_run.first.get("processes", []):
        try:
            os.killpg(process["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _active(topology) -> set[str]:
    return {d.name for d in topology.devices if d.status == "active"}


def test_up_starts_every_active_device(run):
    result = run.first
    assert result["started"] is True and result["running"] is True
    running = {d["name"] for d in result["devices"] if d["running"]}
    assert running == _active(run.topology)
    assert {d["address"] for d in result["devices"]} <= set(map(str, run.network))
    assert all(p["alive"] for p in result["processes"])
    assert (run.var_dir / "lab" / "state.json").exists() and (run.var_dir / "lab" / "faults.json").exists()
    assert result["inventory"]  # loaded into the subprocess's own database
    print(f"\nlab up (demo, {len(running)} active devices): {run.up_seconds:.1f} s including Django start-up")


def test_up_again_is_harmless(run):
    again = run.lab("up")
    assert again["started"] is False
    assert [p["pid"] for p in again["processes"]] == [p["pid"] for p in run.first["processes"]]
    assert {d["name"] for d in again["devices"] if d["running"]} == _active(run.topology)


def test_status_check_every_active_device_answers_ssh_and_snmp_except_the_silent_ones(run):
    status = run.lab("status", "--check")
    by_name = {d["name"]: d for d in status["devices"]}
    for device in run.topology.devices:
        row = by_name[device.name]
        if device.status != "active":
            assert not row["running"] and not row["ssh_answering"] and not row["snmp_answering"]
            continue
        # `status --check` sends one SNMPv2c GET with the community the lab reports for the device (the device's
        # own, the one in the status row): v3 devices and the planted timeouts do not answer it, by design. The
        # wrong-community device answers its own community, but not the SNMP profile's one the inventory holds.
        silent = device.snmp_version != "2c" or "snmp-timeout" in device.faults
        assert row["running"] and row["ssh_answering"], device.name
        assert row["snmp_answering"] is (not silent), device.name
        if "snmp-wrong-community" in device.faults:
            assert row["snmp_community"] != SNMP_COMMUNITY
            assert not snmp_answers(device.address, row["snmp_port"], SNMP_COMMUNITY)
    silent = [d for d in status["devices"] if d["running"] and not d["snmp_answering"]]
    assert silent and len(silent) < len(status["devices"]) / 4  # the faults are planted, and only a few


def test_down_stops_exactly_what_up_started(run):
    pids = [p["pid"] for p in run.first["processes"]]
    groups = set(pids)  # each lab process leads its own process group
    members = {pid for pid, group in _process_groups().items() if group in groups}
    assert set(pids) <= members
    assert _listening(run.network)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        result = run.lab("down")
        assert result["stopped"] == len(pids)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in members) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in members if _alive(pid)], "a lab process survived `lab down`"
        assert not [pid for pid, group in _process_groups().items() if group in groups and _alive(pid)]
        assert _listening(run.network) == [], "a socket is still listening in the lab's address range"
        assert bystander.poll() is None, "`lab down` killed a process it did not start"
        assert not (run.var_dir / "lab" / "state.json").exists()
        assert run.lab("status")["devices"] == []
        assert run.lab("down")["stopped"] == 0  # twice is harmless too
    finally:
        bystander.kill()
        bystander.wait()
