"""The lab's SNMP agents, read with the real client libraries (pysnmp 7 asyncio, net-snmp when installed)."""

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_walk_cmd,
    get_cmd,
    next_cmd,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from lab import profile
from lab.snmp import ber
from lab.snmp.agent import answer_community
from lab.snmp.mib import DeviceMib, links_by_interface
from lab.topology import SNMP_COMMUNITY, generate

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
BASE = "127.77.0.1"
RECORDING_ADDRESS = "127.77.250.1"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"


def corpus_path(*parts) -> Path:
    """A file of ../shared/corpus (read, never copied); skips when absent unless ONENET_REQUIRE_CORPUS=1."""
    path = ROOT.parent.joinpath("shared", "corpus", *parts)
    if not path.exists():
        if os.environ.get("ONENET_REQUIRE_CORPUS") == "1":
            pytest.fail(f"corpus file {path} is missing and ONENET_REQUIRE_CORPUS=1")
        pytest.skip(f"corpus file {path} is not here")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((BASE, 0))
        return sock.getsockname()[1]


def _start(*args) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "lab.snmp", *args], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stdout.readline()
    if not line.startswith("ready"):
        process.kill()
        raise RuntimeError(f"agent did not start: {line}{process.stderr.read()}")
    return process


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def lab():
    """The demo lab's agents on 127.77.0.1+ and a high port; yields (topology, port)."""
    port = _free_port()
    process = _start("--scale", "demo", "--seed", "1", "--address-base", BASE, "--port", str(port))
    try:
        yield generate("demo", 1, BASE), port
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def recording():
    path = corpus_path("librenms", "tests", "snmpsim", "vrp_5720.snmprec")
    port = _free_port()
    process = _start("--snmprec", str(path), "--address", RECORDING_ADDRESS, "--port", str(port))
    try:
        yield path, port
    finally:
        _stop(process)


# -- client helpers (pysnmp, one engine on one loop thread, bounded by our own deadlines) -----

class _Client:
    """One asyncio loop in a thread with one SnmpEngine (making an engine costs about a second)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.engine = self.run(self._engine())

    @staticmethod
    async def _engine():
        return SnmpEngine()

    def run(self, coro, deadline=10):
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, deadline), self.loop).result(deadline + 1)

    async def _shutdown(self):
        self.engine.close_dispatcher()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


_CLIENT: _Client | None = None


@pytest.fixture(scope="module", autouse=True)
def _client():
    global _CLIENT
    _CLIENT = _Client()
    try:
        yield _CLIENT
    finally:
        _CLIENT.close()
        _CLIENT = None


def run(coro, deadline=10):
    return _CLIENT.run(coro, deadline)


async def _get(address, port, oids, auth=None, timeout=1.0):
    target = await UdpTransportTarget.create((address, port), timeout=timeout, retries=0)
    error, status, _, varbinds = await get_cmd(_CLIENT.engine, auth or CommunityData(SNMP_COMMUNITY), target,
                                               ContextData(), *(ObjectType(ObjectIdentity(o)) for o in oids))
    return error, status, varbinds


async def _walk(address, port, oid, auth=None, repetitions=25):
    """{oid string: value} of the subtree under `oid`, stopping on the first error."""
    rows = {}
    target = await UdpTransportTarget.create((address, port), timeout=1, retries=0)
    async for error, status, _, varbinds in bulk_walk_cmd(
            _CLIENT.engine, auth or CommunityData(SNMP_COMMUNITY), target, ContextData(), 0, repetitions,
            ObjectType(ObjectIdentity(oid)), lexicographicMode=False):
        if error or status:
            raise AssertionError(f"walk {oid}: {error or status.prettyPrint()}")
        for name, value in varbinds:
            rows[str(name)] = value
    return rows


def _device(topology, predicate):
    return next(d for d in topology.devices if predicate(d))


def _plain(d):
    return not d.faults and d.snmp_version == "2c" and d.status == "active"


# -- identity ------------------------------------------------------------------------------

@pytest.mark.parametrize("vendor, descr_start, arc", [
    ("Huawei", "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.210 (",
     "1.3.6.1.4.1.2011.2."),
    ("H3C", "H3C Comware Platform Software, Software Version 7.1.064, Release", "1.3.6.1.4.1.25506."),
    ("Cisco", "Cisco IOS Software, ", "1.3.6.1.4.1.9.1."),
    ("Ruijie", "Ruijie General Operating System Software\r\nRelease Software (tm), RGOS 11.4(1)B12P14",
     "1.3.6.1.4.1.4881.1."),
])
def test_each_vendor_answers_with_its_own_sysdescr_and_enterprise_oid(lab, vendor, descr_start, arc):
    topology, port = lab
    device = _device(topology, lambda d: d.vendor == vendor and _plain(d))
    error, status, varbinds = run(_get(device.address, port, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, SYS_UPTIME]))
    assert not error and not status
    descr, object_id, name, uptime = (value for _, value in varbinds)
    assert str(descr).startswith(descr_start)
    if vendor != "Cisco":  # IOS names the software family, not the model
        assert device.model in str(descr)
    assert str(object_id).startswith(arc)
    assert str(name) == device.name
    assert int(uptime) > 86400 * 100  # up for at least a day before the lab started


# -- counters ------------------------------------------------------------------------------

def test_counters_grow_with_the_traffic_profile(lab):
    topology, port = lab
    link = next(k for k in topology.links if k.tier == "internet" and k.capacity_bps == 2_000_000_000)
    device = topology.device(link.a_device)  # the egress; its ISP-facing port receives the download
    if_index = device.interface(link.a_interface).if_index
    key = f"{IF_HC_IN_OCTETS}.{if_index}"

    a0 = time.time()
    first = run(_walk(device.address, port, IF_HC_IN_OCTETS))
    a1 = time.time()
    time.sleep(1.0)
    b0 = time.time()
    second = run(_walk(device.address, port, IF_HC_IN_OCTETS))
    b1 = time.time()

    assert len(first) == len(second) == len(device.interfaces)
    delta = int(second[key]) - int(first[key])
    # the readings happened inside [a0, a1] and [b0, b1]: the counter grew by the profile's integral between them
    low = profile.mean_rate_bps(link, "ba", a1, b0) * (b0 - a1) / 8 - 1
    high = profile.mean_rate_bps(link, "ba", a0, b1) * (b1 - a0) / 8 + 1
    assert low <= delta <= high
    # and the rate is the heavy direction's: at least a quarter of the link's base utilisation
    assert delta * 8 / (b1 - a0) > link.capacity_bps * link.base_utilisation * 0.25
    assert all(int(second[oid]) >= int(value) for oid, value in first.items())


def test_32_bit_counters_are_the_64_bit_ones_wrapped(lab):
    topology, port = lab
    device = _device(topology, lambda d: d.name == "city-core-1")
    oids = [f"{IF_IN_OCTETS}.{i.if_index}" for i in device.interfaces[1:4]]
    oids += [f"{IF_HC_IN_OCTETS}.{i.if_index}" for i in device.interfaces[1:4]]
    error, status, varbinds = run(_get(device.address, port, oids))  # one request: one instant
    assert not error and not status
    values = [int(value) for _, value in varbinds]
    assert values[:3] == [v % 2**32 for v in values[3:]]
    assert any(v >= 2**32 for v in values[3:])  # a 10G core link has wrapped many times


def test_both_ends_of_a_link_see_the_same_traffic():
    topology = generate("demo", 1, BASE)
    ends = links_by_interface(topology)
    link = next(k for k in topology.links if k.tier == "city-county")
    a = DeviceMib(topology.device(link.a_device), ends, started=1_700_000_000)
    b = DeviceMib(topology.device(link.b_device), ends, started=1_700_000_000)

    def counter(mib, ifname, column, t):
        position = mib.index[ber.parse_oid(f"{column}.{mib.device.interface(ifname).if_index}")]
        return ber.decode_value(mib.value(position, t))

    t0, t1 = 1_764_205_200.0, 1_764_205_500.0  # a weekday morning, 09:00-09:05 in Shanghai
    a_out = counter(a, link.a_interface, IF_HC_OUT_OCTETS, t1) - counter(a, link.a_interface, IF_HC_OUT_OCTETS, t0)
    b_in = counter(b, link.b_interface, IF_HC_IN_OCTETS, t1) - counter(b, link.b_interface, IF_HC_IN_OCTETS, t0)
    expected = profile.mean_rate_bps(link, "ab", t0, t1) * (t1 - t0) / 8
    assert abs(a_out - b_in) <= 2
    assert abs(a_out - expected) <= 2


def test_counter32_only_device_has_no_hc_counters(lab):
    topology, port = lab
    device = _device(topology, lambda d: "counter32-only" in d.faults and "snmp-timeout" not in d.faults)
    assert run(_walk(device.address, port, IF_HC_IN_OCTETS)) == {}
    assert len(run(_walk(device.address, port, IF_IN_OCTETS))) == len(device.interfaces)


def test_rebooting_device_restarts_uptime_and_counters():
    topology = generate("demo", 1, BASE)
    device = _device(topology, lambda d: "reboots" in d.faults)
    mib = DeviceMib(device, links_by_interface(topology), started=1_700_000_000)
    t = 1_764_205_200.0
    boot = mib.boot_time(t)
    assert 0 <= t - boot < 40 * 60
    next_boot = mib.boot_time(boot + mib.reboot_period + 1)
    assert 20 * 60 <= next_boot - boot <= 40 * 60
    uptime_position = mib.index[ber.parse_oid(SYS_UPTIME)]
    assert 249 <= ber.decode_value(mib.value(uptime_position, next_boot + 2.5)) <= 250
    uplink = device.interfaces[1]
    position = mib.index[ber.parse_oid(f"{IF_IN_OCTETS}.{uplink.if_index}")]
    before = ber.decode_value(mib.value(position, next_boot - 1))
    after = ber.decode_value(mib.value(position, next_boot + 1))
    assert after < 100_000_000 / 8 * 2  # at most two seconds of its 100 Mbit/s link
    assert before != after


# -- protocol behaviour --------------------------------------------------------------------

def test_wrong_community_gets_no_answer(lab):
    topology, port = lab
    device = _device(topology, _plain)
    error, _, _ = run(_get(device.address, port, [SYS_NAME], auth=CommunityData("public"), timeout=0.3))
    assert "timed out" in str(error).lower() or "timeout" in str(error).lower()


def test_snmp_timeout_fault_device_never_answers(lab):
    topology, port = lab
    device = _device(topology, lambda d: "snmp-timeout" in d.faults)
    error, _, _ = run(_get(device.address, port, [SYS_NAME], timeout=0.3))
    assert "time" in str(error).lower()


def test_missing_objects_and_instances_and_the_end_of_the_mib(lab):
    topology, port = lab
    device = _device(topology, _plain)
    error, status, varbinds = run(_get(device.address, port, ["1.3.6.1.2.1.1.5.1", "1.3.6.1.4.1.99999.1.0"]))
    assert not error and not status
    assert isinstance(varbinds[0][1], NoSuchInstance)
    assert isinstance(varbinds[1][1], NoSuchObject)

    async def after_last():
        target = await UdpTransportTarget.create((device.address, port), timeout=1, retries=0)
        return await next_cmd(_CLIENT.engine, CommunityData(SNMP_COMMUNITY), target, ContextData(),
                              ObjectType(ObjectIdentity("1.3.6.1.2.1.31.1.1.1.99")))

    error, status, _, varbinds = run(after_last())
    assert not error and not status
    assert isinstance(varbinds[0][1], EndOfMibView)


def test_a_bulk_walk_of_a_device_is_in_lexicographic_order(lab):
    topology, port = lab
    device = _device(topology, _plain)
    rows = run(_walk(device.address, port, "1.3.6.1.2.1", repetitions=40))
    oids = [ber.parse_oid(oid) for oid in rows]
    assert oids == sorted(oids) and len(set(oids)) == len(oids)
    assert len([o for o in oids if o[:10] == (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)]) == len(device.interfaces)
    assert ber.parse_oid(f"1.3.6.1.2.1.31.1.1.1.18.{device.interfaces[1].if_index}") in oids  # ifAlias


def test_bulk_responses_are_truncated_to_fit_the_size_limit():
    topology = generate("demo", 1, BASE)
    device = topology.device("city-core-1")
    mib = DeviceMib(device, links_by_interface(topology), started=1_700_000_000)
    pdu = ber.tlv(ber.GETBULK, ber.tlv_int(7) + ber.tlv_int(0) + ber.tlv_int(1000) + ber.tlv(
        ber.SEQUENCE, ber.varbind(ber.tlv_oid(ber.parse_oid("1.3.6.1.2.1")), ber.NULL_TLV)))
    request = ber.community_message(1, SNMP_COMMUNITY.encode(), pdu)
    for limit in (484, 1400, 65000):
        response = answer_community(request, {SNMP_COMMUNITY.encode(): mib}, max_response=limit)
        assert len(response) <= limit
        message = ber.decode_community_message(response)
        assert message.pdu.tag == ber.RESPONSE and message.pdu.field1 == 0
        assert len(message.pdu.oids) > (8 if limit == 484 else 30)
    assert answer_community(request, {b"other": mib}) is None


def test_snmpv3_authnopriv_device_answers_the_lab_user_and_rejects_a_wrong_key(lab):
    topology, port = lab
    device = _device(topology, lambda d: d.snmp_version == "3" and "snmp-timeout" not in d.faults)
    good = UsmUserData("onenet", "lab-snmp-auth-1", authProtocol=usmHMACSHAAuthProtocol)
    error, status, varbinds = run(_get(device.address, port, [SYS_NAME], auth=good))
    assert not error and not status
    assert str(varbinds[0][1]) == device.name
    rows = run(_walk(device.address, port, IF_HC_IN_OCTETS, auth=good))
    assert len(rows) == len(device.interfaces)
    bad = UsmUserData("onenet", "not-the-lab-key", authProtocol=usmHMACSHAAuthProtocol)
    error, _, _ = run(_get(device.address, port, [SYS_NAME], auth=bad))
    assert error and "digest" in str(error).lower()


# -- recordings ----------------------------------------------------------------------------

def test_recording_is_served_with_its_values_unchanged(recording):
    path, port = recording
    community = CommunityData(path.stem)
    error, status, varbinds = run(_get(RECORDING_ADDRESS, port, [
        SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, "1.3.6.1.2.1.2.2.1.2.5", "1.3.6.1.2.1.6.17.0",
        "1.3.6.1.2.1.4.24.3.0", "1.3.6.1.2.1.4.20.1.3.10.1.100.13", "1.0.8802.1.1.2.1.4.1.1.5.8626.14.1",
    ], auth=community))
    assert not error and not status
    values = [value for _, value in varbinds]
    descr_hex = ("53353732302d3536432d5057522d45492d41430a48756177656920566572736174696c6520526f7574696e672050"
                 "6c6174666f726d20536f667477617265200d0a205652502028522920736f6674776172652c56657273696f6e2035")
    assert values[0].asOctets().hex().startswith(descr_hex)
    assert str(values[1]) == "1.3.6.1.4.1.2011.2.23.291"
    assert int(values[2]) == 28156805 and values[2].__class__.__name__ == "TimeTicks"
    assert str(values[3]) == "Vlanif1"
    assert int(values[4]) == 169087 and values[4].__class__.__name__ == "Counter64"
    assert int(values[5]) == 30 and values[5].__class__.__name__ == "Gauge32"
    assert values[6].prettyPrint() == "255.255.255.252"
    assert values[7].asOctets() == bytes.fromhex("14A0F8CFAF39")


def test_recording_community_selects_the_recording(recording):
    path, port = recording
    error, _, _ = run(_get(RECORDING_ADDRESS, port, [SYS_DESCR], auth=CommunityData("public"), timeout=0.3))
    assert error


@pytest.mark.skipif(shutil.which("snmpbulkwalk") is None, reason="net-snmp's snmpbulkwalk is not installed")
def test_net_snmp_bulkwalk_reads_the_whole_recording_and_the_lab(recording, lab):
    path, port = recording
    records = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    result = subprocess.run(["snmpbulkwalk", "-v2c", "-c", path.stem, "-On", "-Oq", "-Cr50", "-t", "2", "-r", "0",
                             f"{RECORDING_ADDRESS}:{port}", ".1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    walked = [line for line in result.stdout.splitlines()
              if (line.startswith(".1.") or line.startswith(".0.")) and "No more variables" not in line]
    first_oids = sorted({record.split("|", 1)[0] for record in records}, key=ber.parse_oid)
    assert [line.split(" ", 1)[0] for line in walked] == ["." + oid for oid in first_oids]

    topology, lab_port = lab
    device = _device(topology, _plain)
    result = subprocess.run(["snmpbulkwalk", "-v2c", "-c", SNMP_COMMUNITY, "-On", "-t", "2", "-r", "0",
                             f"{device.address}:{lab_port}", IF_HC_IN_OCTETS], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Counter64") == len(device.interfaces)


def test_snmpv1_gets_no_counter64_and_errors_name_the_varbind():
    topology = generate("demo", 1, BASE)
    device = topology.device("city-core-1")
    mib = DeviceMib(device, links_by_interface(topology), started=1_700_000_000)
    views = {SNMP_COMMUNITY.encode(): mib}

    def ask(tag, *oids):
        varbinds = b"".join(ber.varbind(ber.tlv_oid(ber.parse_oid(oid)), ber.NULL_TLV) for oid in oids)
        request = ber.community_message(0, SNMP_COMMUNITY.encode(), ber.tlv(
            tag, ber.tlv_int(42) + ber.tlv_int(0) + ber.tlv_int(0) + ber.tlv(ber.SEQUENCE, varbinds)))
        return ber.decode_community_message(answer_community(request, views)).pdu

    pdu = ask(ber.GET, SYS_NAME, f"{IF_HC_IN_OCTETS}.2")
    assert (pdu.request_id, pdu.field1, pdu.field2) == (42, ber.NO_SUCH_NAME, 2)
    pdu = ask(ber.GETNEXT, "1.3.6.1.2.1.31.1.1.1.5.999")  # after ifOutBroadcastPkts comes ifHC*: skipped in v1
    assert pdu.field1 == 0 and pdu.oids[0][:11] == ber.parse_oid("1.3.6.1.2.1.31.1.1.1.14")


def test_malformed_datagrams_are_dropped_without_an_answer():
    topology = generate("demo", 1, BASE)
    mib = DeviceMib(topology.devices[0], links_by_interface(topology), started=1_700_000_000)
    views = {SNMP_COMMUNITY.encode(): mib}
    request = ber.community_message(1, SNMP_COMMUNITY.encode(), ber.tlv(
        ber.GETBULK, ber.tlv_int(7) + ber.tlv_int(0) + ber.tlv_int(10)
        + ber.tlv(ber.SEQUENCE, ber.varbind(ber.tlv_oid(ber.parse_oid(IF_IN_OCTETS)), ber.NULL_TLV))))
    assert answer_community(request, views) is not None
    rng = random.Random(5)
    broken = [request[:n] for n in range(len(request))]
    for _ in range(300):
        data = bytearray(request)
        data[rng.randrange(len(data))] = rng.randrange(256)
        broken.append(bytes(data))
    for data in broken:
        try:
            answer_community(bytes(data), views)
        except ber.DecodeError:
            pass


def test_snmpv3_device_does_not_answer_v2c(lab):
    topology, port = lab
    device = _device(topology, lambda d: d.snmp_version == "3" and "snmp-timeout" not in d.faults)
    error, _, _ = run(_get(device.address, port, [SYS_NAME], timeout=0.3))
    assert error


def test_planned_devices_are_not_installed_and_never_answer(lab):
    topology, port = lab
    planned = [d for d in topology.devices if d.status == "planned"]
    if not planned:
        pytest.skip("this topology has no planned devices")
    error, _, _ = run(_get(planned[0].address, port, [SYS_NAME], timeout=0.3))
    assert error
