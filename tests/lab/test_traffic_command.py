"""`manage.py lab traffic`: captures the threat engine reads, and `--live IFACE` on a veth pair it creates.

The live test lets the command create the pair itself: a watcher binds a raw AF_PACKET socket to IFACE as soon as
it appears in this (the root) namespace, before the replay (a fresh interpreter inside the namespace) starts,
and counts every frame that arrives. Nothing is sent anywhere but across that veth pair.
"""

import errno
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lab import live
from threat.engine import scan_files
from threat.engine.pcapio import read_frames

ROOT = Path(__file__).resolve().parents[2]
PACKET_OUTGOING = 4
EXPECTED_KINDS = {
    "office": set(),
    "eternalblue": {"smbv1", "ms17-010", "eternalblue", "doublepulsar"},
    "wannacry": {"smbv1", "ms17-010", "eternalblue", "doublepulsar", "smb-scan", "wannacry-killswitch"},
    "scan": {"smb-scan"},
    "portscan": set(),
    "smb1-benign": {"smbv1"},
}


def lab_command(*args, timeout=120):
    return subprocess.run([sys.executable, "manage.py", "lab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("scenario", sorted(EXPECTED_KINDS))
def test_each_scenario_writes_a_capture_the_engine_reads_with_the_expected_alerts(scenario, tmp_path):
    from django.core.management import call_command

    from lab.traffic import SCENARIOS

    assert set(SCENARIOS) == set(EXPECTED_KINDS)
    out = tmp_path / f"{scenario}.pcap"
    call_command("lab", "traffic", "--scenario", scenario, "--out", str(out), "--seed", "1", "--json")
    result = scan_files([out])
    frames = sum(1 for _ in read_frames(out))
    assert result["warnings"] == [] and result["packets"] == frames > 0
    assert {a["kind"] for a in result["alerts"]} == EXPECTED_KINDS[scenario]


def test_live_options_need_live_and_a_positive_speed(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="LIVE_IFACE_MISSING"):
        call_command("lab", "traffic", "--scenario", "scan", "--out", str(tmp_path / "s.pcap"), "--keep")
    with pytest.raises(CommandError, match="LIVE_SPEED_INVALID"):
        call_command("lab", "traffic", "--scenario", "scan", "--out", str(tmp_path / "s.pcap"), "--live", "x0",
                     "--speed", "0")
    with pytest.raises(CommandError, match="LIVE_IFACE_INVALID"):
        call_command("lab", "traffic", "--scenario", "scan", "--out", str(tmp_path / "s.pcap"), "--live",
                     "bad name; rm")


class Watcher(threading.Thread):
    """Bind to IFACE the moment it exists; count the frames it receives until stopped."""

    def __init__(self, iface: str):
        super().__init__(daemon=True)
        self.iface = iface
        self.bound = threading.Event()
        self.stopping = threading.Event()
        self.received = 0
        self.error = None

    def run(self):
        try:
            deadline = time.monotonic() + 60
            while not self.stopping.is_set():
                try:
                    socket.if_nametoindex(self.iface)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.002)
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            sock.bind((self.iface, 0))
            self.bound.set()
            sock.settimeout(0.2)
            with sock:
                while True:
                    try:
                        _frame, address = sock.recvfrom(65535)
                    except TimeoutError:
                        if self.stopping.is_set():
                            return
                        continue
                    except OSError as error:  # the interface went away: what was queued is still readable
                        if error.errno in (errno.ENETDOWN, errno.ENXIO, errno.ENODEV):
                            continue
                        raise
                    if address[2] != PACKET_OUTGOING:
                        self.received += 1
        except Exception as error:  # reported by the test
            self.error = error


@pytest.mark.netns
def test_live_injects_every_frame_on_the_veth_it_creates_and_removes_it(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("`lab traffic --live` creates a network namespace and a veth pair: it needs root")
    iface = f"onenetT{secrets.token_hex(3)}"
    namespace = live.namespace_for(iface)
    out = tmp_path / "wannacry.pcap"
    watcher = Watcher(iface)
    watcher.start()
    try:
        result = lab_command("traffic", "--scenario", "wannacry", "--out", str(out), "--live", iface, "--json")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert watcher.bound.is_set(), "the command never created the interface"
        frames = sum(1 for _ in read_frames(out))
        deadline = time.monotonic() + 5
        while watcher.received < frames and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # nothing more should come
        watcher.stopping.set()
        watcher.join(5)
        assert watcher.error is None
        assert document["packets"] == document["live"]["sent"] == frames
        assert watcher.received == frames
        assert document["live"]["namespace"] == namespace and not document["live"]["kept"]
        # Gone afterwards: the namespace and both ends of the pair.
        assert not Path("/run/netns", namespace).exists()
        assert namespace not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert subprocess.run(["ip", "link", "show", "dev", iface], capture_output=True).returncode != 0
    finally:
        watcher.stopping.set()
        live.delete(iface)


@pytest.mark.netns
def test_live_keep_keeps_the_pair_for_another_run_and_refuses_a_foreign_interface(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("`lab traffic --live` creates a network namespace and a veth pair: it needs root")
    iface = f"onenetT{secrets.token_hex(3)}"
    try:
        for _ in range(2):
            result = lab_command("traffic", "--scenario", "scan", "--out", str(tmp_path / "scan.pcap"), "--live",
                                 iface, "--keep", "--speed", "1000", "--json")
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["live"]["sent"] == sum(1 for _ in read_frames(tmp_path / "scan.pcap"))
            assert live.is_ours(iface)
    finally:
        live.delete(iface)
    assert not live.exists(iface)
    # An interface the lab did not create is never written to.
    result = lab_command("traffic", "--scenario", "scan", "--out", str(tmp_path / "scan.pcap"), "--live", "lo")
    assert result.returncode != 0 and "LIVE_IFACE_TAKEN" in result.stderr
    assert not Path("/run/netns", live.namespace_for("lo")).exists()
