"""Start, stop and describe the running lab: SNMP agents and SSH devices in background processes.

`lab up` starts a few processes (each serves a shard of the devices, every device on its own
127.x.y.z address), in their own process groups, with pid and log files under var/lab/; it
writes the planted-fault answer file and loads the topology into the inventory. `lab down`
stops exactly the process groups recorded in var/lab/state.json and nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from lab.topology import SNMP_COMMUNITY, SSH_PASSWORD, SSH_USERNAME, Topology, generate
from web.errors import OneNetError

START_TIMEOUT = 150.0


class LabError(OneNetError):
    """An operator-facing error of the lab: a stable code and what to do."""


@dataclass
class LabProcess:
    kind: str  # snmp or ssh
    shard: int
    shards: int
    pid: int
    log: str

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A zombie child (exited, not yet reaped) is not running.
        try:
            return Path(f"/proc/{self.pid}/stat").read_text().split(") ")[1][0] != "Z"
        except (OSError, IndexError):
            return True


@dataclass
class LabState:
    scale: str
    seed: int
    address_base: str
    snmp_port: int
    ssh_port: int
    started_at: float
    processes: list[LabProcess]

    def topology(self) -> Topology:
        return generate(self.scale, self.seed, self.address_base)


def lab_dir() -> Path:
    path = Path(settings.VAR_DIR) / "lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _state_path() -> Path:
    return lab_dir() / "state.json"


def read_state() -> LabState | None:
    path = _state_path()
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    raw["processes"] = [LabProcess(**p) for p in raw["processes"]]
    return LabState(**raw)


def _write_state(state: LabState):
    _state_path().write_text(json.dumps(asdict(state), indent=1))


def _shards(device_count: int) -> int:
    # One process answers a few thousand idle devices easily; two spread a poll's load over both cores.
    return 1 if device_count <= 500 else 2


def inventory_document(topology: Topology, snmp_port: int, ssh_port: int) -> dict:
    document = topology.to_inventory()
    for device in document["devices"]:
        device["snmp_port"], device["ssh_port"] = snmp_port, ssh_port
    return document


def up(scale: str = "demo", seed: int = 1, load_inventory: bool = True) -> dict:
    """Start the lab (harmless when the same lab already runs) and load its inventory."""
    state = read_state()
    if state and any(p.alive() for p in state.processes):
        if (state.scale, state.seed) != (scale, seed):
            raise LabError("LAB_ALREADY_RUNNING", f"a {state.scale} lab with seed {state.seed} is running; "
                                                  "run `manage.py lab down` first.")
        if not all(p.alive() for p in state.processes):
            down()  # half-dead: start it again cleanly
        else:
            return {"started": False, **status()}
    address_base = settings.LAB_ADDRESS_BASE
    snmp_port, ssh_port = settings.LAB_SNMP_PORT, settings.LAB_SSH_PORT
    topology = generate(scale, seed, address_base)
    logs = lab_dir() / "logs"
    logs.mkdir(exist_ok=True)
    shards = _shards(len(topology.devices))
    started = time.time()
    processes = []
    # Both kinds share the state directory: the SSH devices publish each device's management plane there.
    state_dir = ["--state-dir", str(lab_dir())]
    for kind, port, extra in (("snmp", snmp_port, state_dir), ("ssh", ssh_port, state_dir)):
        for shard in range(shards):
            log = logs / f"{kind}-{shard}.log"
            command = [sys.executable, "-m", f"lab.{kind}", "--scale", scale, "--seed", str(seed), "--port",
                       str(port), "--shard", str(shard), "--shards", str(shards), "--address-base", address_base,
                       *extra]
            with open(log, "wb") as out:
                proc = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            processes.append(LabProcess(kind, shard, shards, proc.pid, str(log)))
    state = LabState(scale, seed, address_base, snmp_port, ssh_port, started, processes)
    _write_state(state)
    try:
        _wait_until_answering(state, topology)
    except LabError:
        down()
        raise
    (lab_dir() / "faults.json").write_text(json.dumps(_answer_file(topology), indent=1, ensure_ascii=False))
    result = {"started": True, "seconds": round(time.time() - started, 1), "devices": len(topology.devices)}
    if load_inventory:
        from inventory.services import import_document

        result["inventory"] = import_document(inventory_document(topology, snmp_port, ssh_port),
                                              f"lab:{scale}:{seed}").as_dict()
    return {**result, **status()}


def _answer_file(topology: Topology) -> dict:
    """The planted faults, each with the compliance rules it should trip."""
    from lab.ssh.configs import expected_faults

    return {"scale": topology.scale, "seed": topology.seed, "faults": expected_faults(topology)}


def _wait_until_answering(state: LabState, topology: Topology):
    """Wait until every shard's last device answers SNMP and SSH, or a process dies."""
    deadline = time.monotonic() + START_TIMEOUT
    probes = []
    for process in state.processes:
        # Planned devices are ordered, not installed: nothing answers for them.
        mine = [d for i, d in enumerate(topology.devices) if i % process.shards == process.shard
                and d.status == "active"]
        answering = [d for d in mine if not _snmp_silent(d)] if process.kind == "snmp" else mine
        if answering:
            probes.append((process, answering[-1]))
    pending = list(probes)
    while pending:
        for process, device in list(pending):
            if not process.alive():
                tail = Path(process.log).read_text(errors="replace")[-1500:]
                raise LabError("LAB_START_FAILED", f"the {process.kind} process (shard {process.shard}) exited; "
                                                   f"its log {process.log} ends with:\n{tail}")
            ok = (snmp_answers(device.address, state.snmp_port, device.snmp_community) if process.kind == "snmp"
                  else tcp_answers(device.address, state.ssh_port))
            if ok:
                pending.remove((process, device))
        if pending and time.monotonic() > deadline:
            raise LabError("LAB_START_TIMEOUT", f"the lab did not answer within {START_TIMEOUT:.0f} s; see the "
                                                f"logs under {lab_dir() / 'logs'}.")
        if pending:
            time.sleep(0.5)


def _snmp_silent(device) -> bool:
    return device.snmp_version != "2c" or {"snmp-timeout", "snmp-wrong-community"} & set(device.faults)


def down() -> dict:
    """Stop the process groups the lab started (and only those)."""
    state = read_state()
    if state is None:
        return {"stopped": 0}
    stopped = 0
    for process in state.processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            stopped += 1
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 15
    while any(p.alive() for p in state.processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    for process in state.processes:
        if process.alive():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _state_path().unlink(missing_ok=True)
    return {"stopped": stopped}


def status(check: bool = False) -> dict:
    """Every lab device with how to reach it (DESIGN's contract); `check` also asks each one."""
    state = read_state()
    if state is None:
        return {"running": False, "devices": []}
    topology = state.topology()
    alive = {(p.kind, p.shard): p.alive() for p in state.processes}
    shards = state.processes[0].shards if state.processes else 1
    devices = []
    for index, device in enumerate(topology.devices):
        shard = index % shards
        running = (device.status == "active" and alive.get(("snmp", shard), False)
                   and alive.get(("ssh", shard), False))
        row = {"name": device.name, "platform": device.platform, "role": device.role, "address": device.address,
               "snmp_port": state.snmp_port, "snmp_community": device.snmp_community,
               "snmp_version": device.snmp_version, "ssh_port": state.ssh_port, "username": SSH_USERNAME,
               "password": SSH_PASSWORD, "running": running, "faults": device.faults}
        if check:
            row["ssh_answering"] = running and tcp_answers(device.address, state.ssh_port)
            row["snmp_answering"] = running and snmp_answers(device.address, state.snmp_port,
                                                             device.snmp_community)
        devices.append(row)
    return {"running": all(alive.values()), "scale": state.scale, "seed": state.seed,
            "processes": [asdict(p) | {"alive": p.alive()} for p in state.processes],
            "profile_community": SNMP_COMMUNITY, "devices": devices}


def tcp_answers(address: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _ber_length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF])


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _ber_length(len(value)) + value


def snmp_answers(address: str, port: int, community: str, timeout: float = 1.0) -> bool:
    """One SNMPv2c GET of sysUpTime.0, built by hand: a readiness probe needs no SNMP library."""
    oid = bytes([0x2B, 6, 1, 2, 1, 1, 3, 0])  # 1.3.6.1.2.1.1.3.0
    varbind = _tlv(0x30, _tlv(0x06, oid) + b"\x05\x00")
    pdu = _tlv(0xA0, _tlv(0x02, b"\x01") + _tlv(0x02, b"\x00") + _tlv(0x02, b"\x00") + _tlv(0x30, varbind))
    message = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x04, community.encode()) + pdu)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(message, (address, port))
            return sock.recv(2048).startswith(b"\x30")
        except OSError:
            return False
