"""Poll runs end, one at a time per part of the network, and one bad device fails alone.

Issue 8, items 7–9: a killed or crashed poll must not leave its run 'running' forever nor its shard processes
behind; two cycles for the same part never overlap ('collect now' clicked 30 times sends the tasks once); a
device whose SNMP port cannot be sent to, or whose credential cannot be decrypted, fails alone with a clear
error while its neighbours are polled.

Everything here is real: the lab's SNMP agents, UDP sockets of the test's own on 127.0.0.1 (a black hole that
never answers, a relay that holds a lab device's answers until the test lets them through), real forked shard
processes and real signals. Waits poll for a state with generous timeouts; nothing asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import constants as message_levels
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from pysnmp.carrier.asyncio.dgram import udp

from collectors.models import DeviceState, InterfaceSample, PollRun, PollRunStatus, SnmpState
from collectors.services import polling
from collectors.services.discovery import discover_devices
from collectors.snmp.client import SnmpTarget, get_dispatcher, poll_many
from inventory.models import Credential, Device, Region
from tests.collectors.test_collect_now import memory_broker, queued  # noqa: F401 - the broker fixture
from tests.conftest import TEST_LAB

ROOT = Path(__file__).resolve().parents[2]
SILENT_FAULTS = {"snmp-timeout", "snmp-wrong-community"}


# ------------------------------------------------------------------ real parts of the test's own


class BlackHole:
    """A UDP socket on 127.0.0.1 that reads nothing and answers nothing: a device that never responds."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


class HeldRelay:
    """A UDP relay on 127.0.0.1 in front of one lab agent. While held it keeps every request; released, it
    forwards them (and all later ones) to the agent and the answers back: a device that is slow for exactly as
    long as the test needs, then answers for real."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.released = threading.Event()
        self.stopping = threading.Event()
        self.received = 0
        self._held: list[tuple[bytes, tuple]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        upstreams: dict[tuple, socket.socket] = {}  # one per client address, so answers find their way back
        clients: dict[socket.socket, tuple] = {}
        try:
            while not self.stopping.is_set():
                readable, _, _ = select.select([self.sock, *clients], [], [], 0.05)
                for sock in readable:
                    data, address = sock.recvfrom(65535)
                    if sock is self.sock:
                        self.received += 1
                        self._held.append((data, address))
                    else:
                        self.sock.sendto(data, clients[sock])
                while self.released.is_set() and self._held:
                    data, client = self._held.pop(0)
                    if client not in upstreams:
                        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        upstream.bind(("127.0.0.1", 0))
                        upstreams[client], clients[upstream] = upstream, client
                    upstreams[client].sendto(data, self.upstream)
        finally:
            for sock in clients:
                sock.close()

    def hold(self):
        self.released.clear()

    def release(self):
        self.released.set()

    def close(self):
        self.stopping.set()
        self._thread.join(10)
        self.sock.close()


def wait_until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up after {seconds:.0f} s waiting for {what}")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process from /proc, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def children_of(pid: int) -> set[tuple[int, int]]:
    """Live (not zombie) children of pid, as (pid, start time) so a reused pid is not mistaken for them."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[1] == pid and stat[0] != "Z":
                found.add((int(entry.name), stat[2]))
    return found


def exited(process: tuple[int, int]) -> bool:
    stat = _stat(process[0])
    return stat is None or stat[0] == "Z" or stat[2] != process[1]


def kill_leftovers(processes):
    for pid, started in processes:
        if not exited((pid, started)):
            os.kill(pid, signal.SIGKILL)


def lab_targets(topology, count: int) -> list[dict]:
    healthy = [d for d in topology.devices if d.status == "active" and d.snmp_version == "2c"
               and not SILENT_FAULTS & set(d.faults)]
    return [{"host": d.address, "port": TEST_LAB["snmp_port"], "community": d.snmp_community, "name": d.name,
             "timeout": 3, "retries": 1, "deadline": 20} for d in healthy[:count]]


def county_with_healthy_devices(topology, minimum: int = 4) -> tuple[Region, list[str], set[str]]:
    """A county of the lab with at least `minimum` SNMPv2c devices that answer: (county, their names, silent)."""
    for county in Region.objects.filter(level="county").order_by("slug"):
        names = set(polling.pollable_devices(region_path=county.path).values_list("name", flat=True))
        lab = [topology.device(n) for n in sorted(names)]
        healthy = [d.name for d in lab if d.snmp_version == "2c" and not SILENT_FAULTS & set(d.faults)]
        if len(healthy) >= minimum:
            return county, healthy, {d.name for d in lab if SILENT_FAULTS & set(d.faults)}
    pytest.fail("no lab county has enough healthy SNMPv2c devices")


@pytest.fixture
def quick_snmp(settings):
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_SNMP_DEADLINE = 1.5, 1, 20
    settings.ONENET_POLL_PROCESSES = 1  # one process: every device shares one UDP transport, the harshest case
    return settings


# ------------------------------------------------------------------ item 9: runs end, shards die with them


@pytest.mark.django_db
def test_a_cycle_whose_shard_process_dies_is_closed_as_failed_and_its_other_shard_stopped(
        demo_inventory, black_hole, settings, client, make_user):
    settings.ONENET_POLL_PROCESSES, settings.ONENET_POLL_CONCURRENCY = 2, 8
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_SNMP_DEADLINE = 60, 0, 90
    county = Region.objects.filter(level="county").order_by("slug").first()
    devices = Device.objects.filter(site__region__path__startswith=county.path)
    assert devices.count() >= 2
    devices.update(address="127.0.0.1", snmp_port=black_hole.port)  # every device of the county stays silent
    before = children_of(os.getpid())
    shards: set[tuple[int, int]] = set()

    def kill_one_shard():
        # A shard dies mid-cycle (the OOM killer, an operator's kill -9): a real crash of the cycle.
        found = wait_until(lambda: children_of(os.getpid()) - before if len(children_of(os.getpid()) - before) >= 2
                           else None, 60, "the cycle's two shard processes")
        shards.update(found)
        os.kill(sorted(found)[0][0], signal.SIGKILL)

    killer = threading.Thread(target=kill_one_shard)
    killer.start()
    try:
        with pytest.raises(BrokenProcessPool):
            polling.poll_cycle(region_path=county.path)
    finally:
        killer.join(90)
        kill_leftovers(shards)
    assert len(shards) == 2
    wait_until(lambda: all(exited(s) for s in shards), 60, "the surviving shard to be stopped")
    run = PollRun.objects.get()
    assert run.status == PollRunStatus.FAILED and run.finished_at is not None and not run.in_progress
    assert run.error.startswith("POLL_FAILED:") and "BrokenProcessPool" in run.error
    assert not polling.runs_in_progress().exists()
    client.force_login(make_user("eng", "engineer"))
    page = client.get(reverse("bandwidth:index"))
    assert page.context["running"] is False and b'http-equiv="refresh"' not in page.content
    assert page.context["runs"][0].status == PollRunStatus.FAILED


# The poll as an operator's shell starts it: Ctrl-C raises KeyboardInterrupt whatever disposition of SIGINT the test
# runner's process has (a child inherits an ignored SIGINT, and Python then installs no handler).
SHARDED_POLL = """
import json, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from collectors.snmp.client import SnmpTarget, poll_many_processes
poll_many_processes([SnmpTarget(**t) for t in json.loads(sys.argv[1])], processes=2, concurrency=4)
"""


@pytest.mark.lab
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_the_shard_processes_of_a_poll_do_not_outlive_it(lab, black_hole, tmp_path, how):
    # Two silent targets, one per shard (shards take every other target), keep both shards busy for minutes.
    silent = {"host": "127.0.0.1", "port": black_hole.port, "community": "none", "timeout": 300, "retries": 0,
              "deadline": 300}
    targets = [{**silent, "name": "silent-1"}, {**silent, "name": "silent-2"}, *lab_targets(lab, 6)]
    with open(tmp_path / "poll.log", "wb") as log:
        poller = subprocess.Popen([sys.executable, "-c", SHARDED_POLL, json.dumps(targets)], cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
    shards: set[tuple[int, int]] = set()
    try:
        shards.update(wait_until(lambda: children_of(poller.pid) if len(children_of(poller.pid)) >= 2 else None,
                                 60, "the poll's two shard processes"))
        wait_until(lambda: black_hole.sock.recv(65535, socket.MSG_DONTWAIT) if select.select(
            [black_hole.sock], [], [], 0)[0] else None, 60, "the shards to be polling")
        poller.send_signal(getattr(signal, how))
        poller.wait(60)
        wait_until(lambda: all(exited(s) for s in shards), 60, f"the shards to exit after the poll's {how}")
    finally:
        if poller.poll() is None:
            poller.kill()
            poller.wait(10)
        kill_leftovers(shards)


@pytest.mark.lab
@pytest.mark.django_db
def test_a_run_left_unfinished_past_its_deadline_is_expired_and_blocks_nothing(lab_inventory, quick_snmp, client,
                                                                              make_user):
    _, healthy, _ = county_with_healthy_devices(lab_inventory)
    name = healthy[0]
    # What a poller killed mid-cycle leaves behind: a run 'running', holding its part of the network.
    scope, keys = polling.cycle_scope(device_name=name)
    stale = polling.start_run(scope, keys, budget_s=60)
    assert polling.runs_in_progress().filter(pk=stale.pk).exists()
    PollRun.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=2),
                                               deadline_at=timezone.now() - timedelta(hours=1))
    client.force_login(make_user("eng", "engineer"))
    page = client.get(reverse("bandwidth:index"))
    assert page.context["running"] is False and b'http-equiv="refresh"' not in page.content
    stale.refresh_from_db()
    assert stale.status == PollRunStatus.EXPIRED and stale.finished_at is not None
    assert stale.error.startswith("POLL_EXPIRED:")
    result = polling.poll_cycle(device_name=name)
    assert "refused" not in result and result["devices_polled"] == 1
    assert PollRun.objects.get(pk=result["run"]).status == PollRunStatus.FINISHED


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_second_cycle_for_the_same_part_is_refused_while_the_first_runs(lab_inventory, settings, capsys):
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_SNMP_DEADLINE = 90, 0, 120
    settings.ONENET_POLL_PROCESSES = 1
    county, healthy, _ = county_with_healthy_devices(lab_inventory)
    name = healthy[0]
    device = Device.objects.get(name=name)
    relay = HeldRelay((device.address, TEST_LAB["snmp_port"]))
    try:
        Device.objects.filter(pk=device.pk).update(address="127.0.0.1", snmp_port=relay.port)
        relay.release()
        assert polling.poll_cycle(device_name=name)["devices_polled"] == 1  # discovered, first counters
        relay.hold()
        asked_before, outcome = relay.received, {}

        def first_cycle():
            try:
                outcome["result"] = polling.poll_cycle(device_name=name)
            finally:
                connection.close()

        first = threading.Thread(target=first_cycle)
        first.start()
        try:
            wait_until(lambda: relay.received > asked_before, 60, "the first cycle to ask the device")
            running = polling.runs_in_progress().get()
            second = polling.poll_cycle(device_name=name)
            assert second["refused"] == "POLL_ALREADY_RUNNING" and second["running"]["run"] == running.pk
            assert second["message"] and second["devices_polled"] == 0
            # The county's cycle covers the device: it overlaps and is refused too.
            assert polling.poll_cycle(region_path=county.path)["refused"] == "POLL_ALREADY_RUNNING"
            with pytest.raises(CommandError, match="POLL_ALREADY_RUNNING"):
                call_command("poll", "--once", "--device", name, "--json")
            assert json.loads(capsys.readouterr().out)["error"]["code"] == "POLL_ALREADY_RUNNING"
        finally:
            relay.release()
            first.join(150)
        result = outcome["result"]
        assert result["devices_polled"] == 1 and result["samples_written"] > 0
        assert PollRun.objects.count() == 2  # the first poll and the held one; the refused ones made no run
        assert not InterfaceSample.objects.values("interface").annotate(n=Count("id")).filter(n__gt=1).exists()
        assert InterfaceSample.objects.count() == result["samples_written"]
        assert not polling.runs_in_progress().exists()
    finally:
        relay.close()


# ------------------------------------------------------------------ item 9: 'collect now' is idempotent


def drain_queues():
    """The memory broker lives as long as the test process: start from empty queues."""
    from collectors.services.schedules import queue_names

    for queue in queue_names():
        queued(queue)


@pytest.mark.django_db
def test_thirty_clicks_on_collect_now_send_one_set_of_tasks(client, demo_inventory, make_user, memory_broker):  # noqa: F811
    drain_queues()
    client.force_login(make_user("eng", "engineer"))
    counties = list(Region.objects.filter(level="county").values_list("slug", flat=True))
    first = client.post(reverse("bandwidth:collect"), follow=True)
    assert [m.level for m in first.context["messages"]] == [message_levels.SUCCESS]
    assert all(client.post(reverse("bandwidth:collect")).status_code == 302 for _ in range(28))
    client.get(reverse("bandwidth:index"))  # shows (and so clears) their messages
    page = client.post(reverse("bandwidth:collect"), follow=True)
    assert [m.level for m in page.context["messages"]] == [message_levels.INFO]  # already queued: nothing sent
    assert [m["task"] for m in queued("city")] == ["collectors.poll_region"]
    assert all(len(queued(f"county.{slug}")) == 1 for slug in counties)
    assert page.context["running"] is True and b'http-equiv="refresh"' in page.content
    assert {r.status for r in page.context["runs"]} == {PollRunStatus.QUEUED}
    # Once the runs are over, the next click polls again.
    for run in PollRun.objects.all():
        polling.finish_run(run)
    client.post(reverse("bandwidth:collect"))
    assert len(queued("city")) == 1


@pytest.mark.lab
@pytest.mark.django_db
def test_the_task_of_a_queued_run_polls_under_that_run(lab_inventory, quick_snmp, memory_broker):  # noqa: F811
    from collectors.services.schedules import request_polls
    from collectors.tasks import poll_region

    drain_queues()
    county, _, _ = county_with_healthy_devices(lab_inventory)
    assert request_polls(county.path) == {"sent": 1, "already_running": 0}
    message, = queued(f"county.{county.slug}")
    run = PollRun.objects.get()
    assert run.status == PollRunStatus.QUEUED and run.in_progress
    # A scheduled cycle reaching the county first finds it taken: the queued one is about to poll it.
    assert polling.poll_cycle(region_path=county.path)["refused"] == "POLL_ALREADY_RUNNING"
    kwargs = {"region_id": county.pk, "run_id": run.pk}
    assert message["kwargsrepr"] == repr(kwargs)
    result = poll_region(**kwargs)  # what the county's worker runs
    assert result["run"] == run.pk and result["devices_polled"] > 0
    run.refresh_from_db()
    assert run.status == PollRunStatus.FINISHED and PollRun.objects.count() == 1


@pytest.mark.django_db
def test_a_township_engineer_sees_the_poll_of_their_county_in_progress(client, demo_inventory, make_user,
                                                                     memory_broker):  # noqa: F811
    drain_queues()
    client.force_login(make_user("eng", "engineer", region="nanjiang-t01"))
    client.post(reverse("bandwidth:collect"))
    client.post(reverse("bandwidth:collect"))
    assert len(queued("county.nanjiang")) == 1
    page = client.get(reverse("bandwidth:index"))
    assert page.context["running"] is True
    assert page.context["runs"][0].scope == Region.objects.get(slug="nanjiang").path


# ------------------------------------------------------------------ items 7 and 8: one bad device fails alone


@pytest.mark.lab
@pytest.mark.django_db
@pytest.mark.parametrize("port", [70000, 0])
def test_a_device_whose_snmp_port_cannot_be_sent_to_fails_alone(lab_inventory, quick_snmp, port):
    county, healthy, silent = county_with_healthy_devices(lab_inventory)
    bad, neighbours = healthy[0], set(healthy[1:])
    Device.objects.filter(name=bad).update(snmp_port=port)  # as if saved past the import's validation
    result = polling.poll_cycle(region_path=county.path)
    states = {s.device.name: s for s in DeviceState.objects.select_related("device")}
    assert states[bad].snmp_state == SnmpState.ERROR
    assert f"port {port} " in states[bad].last_poll_error and "Traceback" not in states[bad].last_poll_error
    assert {n for n in neighbours if states[n].snmp_state == SnmpState.UP} == neighbours
    assert {f["device"] for f in result["failed"]} == silent | {bad}


@pytest.mark.lab
@pytest.mark.parametrize("version", ["2c", "3"])
def test_a_target_whose_port_is_out_of_range_is_never_sent_to(lab, black_hole, version):
    # Before: v2c raised OverflowError in sendto() (and closed the shared transport); pysnmp's v3 target quietly
    # took the port modulo 65536 and asked whatever listened there: here, the black hole.
    wrapped = SnmpTarget(host="127.0.0.1", port=black_hole.port + 65536, version=version, community="lab",
                         user="lab", auth_key="lab-auth-key", name="wrapped", timeout=1, retries=0, deadline=5)
    results = asyncio.run(poll_many([wrapped, *lab_targets(lab, 6)], concurrency=4))
    assert results[0].error == "error" and "outside 1-65535" in results[0].error_message
    assert all(r.ok for r in results[1:]), [(r.name, r.error_message) for r in results if not r.ok]
    assert not select.select([black_hole.sock], [], [], 0)[0]  # nothing reached the port it wraps to


@pytest.mark.lab
def test_the_shared_udp_transport_survives_a_datagram_it_cannot_send(lab):
    async def run():
        first = await poll_many(lab_targets(lab, 2))
        transport = get_dispatcher().transport_dispatcher.get_transport(udp.DOMAIN_NAME)
        # Port 70000 made sendto() raise OverflowError, and asyncio closed the transport every device of the
        # process shares; port 0 makes the kernel answer EINVAL.
        transport.send_message(b"0\x00", ("127.0.0.1", 70000))
        transport.send_message(b"0\x00", ("127.0.0.1", 0))
        kept = dict(transport.send_errors)
        return first, kept, await poll_many(lab_targets(lab, 6))

    first, kept, after = asyncio.run(run())
    assert all(r.ok for r in first)
    assert set(kept) == {("127.0.0.1", 70000), ("127.0.0.1", 0)}
    assert all(r.ok for r in after), [(r.name, r.error_message) for r in after if not r.ok]


def _unreadable_credentials() -> list[Credential]:
    empty = Credential.objects.create(name="empty-secret", kind="snmp")  # saved from the admin with no secret
    other_key = Credential(name="other-key", kind="snmp")  # encrypted under a key this installation lost
    other_key.secret_encrypted = Fernet(Fernet.generate_key()).encrypt(b"public")
    other_key.save()
    return [empty, other_key]


@pytest.mark.lab
@pytest.mark.django_db
def test_a_device_whose_snmp_credential_cannot_be_decrypted_fails_alone(lab_inventory, quick_snmp):
    county, healthy, silent = county_with_healthy_devices(lab_inventory, minimum=5)
    broken = dict(zip(healthy[:2], _unreadable_credentials(), strict=True))
    for name, credential in broken.items():
        Device.objects.filter(name=name).update(snmp_credential=credential)
    result = polling.poll_cycle(region_path=county.path)
    states = {s.device.name: s for s in DeviceState.objects.select_related("device")}
    for name in broken:
        assert states[name].snmp_state == SnmpState.ERROR
        assert states[name].last_poll_error.startswith("CREDENTIAL_UNREADABLE:")
        assert "ONENET_CREDENTIAL_KEY" in states[name].last_poll_error
    neighbours = set(healthy[2:])
    assert {n for n in neighbours if states[n].snmp_state == SnmpState.UP} == neighbours
    assert {f["device"] for f in result["failed"]} == silent | set(broken)
    assert PollRun.objects.get().status == PollRunStatus.FINISHED


@pytest.mark.lab
@pytest.mark.django_db
def test_discovery_skips_a_device_whose_snmp_credential_cannot_be_decrypted(lab_inventory, quick_snmp):
    county, healthy, _ = county_with_healthy_devices(lab_inventory, minimum=3)
    credential = _unreadable_credentials()[0]
    Device.objects.filter(name=healthy[0]).update(snmp_credential=credential)
    result = discover_devices(list(Device.objects.filter(name__in=healthy).select_related("snmp_credential")))
    assert result["failed_devices"] == [healthy[0]] and result["discovered"] == len(healthy) - 1
    state = DeviceState.objects.get(device__name=healthy[0])
    assert state.snmp_state == SnmpState.ERROR and state.last_poll_error.startswith("CREDENTIAL_UNREADABLE:")
