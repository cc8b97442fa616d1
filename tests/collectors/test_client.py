"""collectors.snmp.client against small in-test UDP agents that answer well, never, with garbage, or lie.

The agents are built on pysnmp's own protocol API (v1/v2c GET, GETNEXT, GETBULK over a sorted table), so the
test needs no corpus and no lab. Every device must fail alone, typed, within its deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902

from collectors.snmp.client import SnmpTarget, discover, poll_interfaces, poll_many

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"


def _oid(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def device_table(ports: int = 3, hc: bool = True, uptime=None, extra=None) -> dict:
    t = {
        "1.3.6.1.2.1.1.1.0": rfc1902.OctetString(b"Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), "
                                                 b"Version 15.0(2a)EX5, RELEASE SOFTWARE (fc3)\r\n"),
        "1.3.6.1.2.1.1.2.0": rfc1902.ObjectIdentifier("1.3.6.1.4.1.9.1.1208"),
        "1.3.6.1.2.1.1.3.0": uptime if uptime is not None else rfc1902.TimeTicks(123456),
        "1.3.6.1.2.1.1.5.0": rfc1902.OctetString(b"sw1"),
    }
    for i in range(1, ports + 1):
        t[f"{IF}.2.{i}"] = rfc1902.OctetString(f"GigabitEthernet1/0/{i}".encode())
        t[f"{IF}.3.{i}"] = rfc1902.Integer32(6)
        t[f"{IF}.4.{i}"] = rfc1902.Integer32(1500)
        t[f"{IF}.5.{i}"] = rfc1902.Gauge32(100_000_000)
        t[f"{IF}.6.{i}"] = rfc1902.OctetString(bytes([0, 0x19, 0xE0, 0, 0, i]))
        t[f"{IF}.7.{i}"] = rfc1902.Integer32(1)
        t[f"{IF}.8.{i}"] = rfc1902.Integer32(1 if i % 2 else 2)
        t[f"{IF}.10.{i}"] = rfc1902.Counter32(1000 + i)
        t[f"{IF}.13.{i}"] = rfc1902.Counter32(i)
        t[f"{IF}.14.{i}"] = rfc1902.Counter32(2 * i)
        t[f"{IF}.16.{i}"] = rfc1902.Counter32(2000 + i)
        t[f"{IF}.19.{i}"] = rfc1902.Counter32(3 * i)
        t[f"{IF}.20.{i}"] = rfc1902.Counter32(4 * i)
        t[f"{IFX}.1.{i}"] = rfc1902.OctetString(f"Gi1/0/{i}".encode())
        if hc:
            t[f"{IFX}.6.{i}"] = rfc1902.Counter64(2**40 + i)
            t[f"{IFX}.10.{i}"] = rfc1902.Counter64(2**41 + i)
        t[f"{IFX}.15.{i}"] = rfc1902.Gauge32(1000 if i == 1 else 0)
        t[f"{IFX}.18.{i}"] = rfc1902.OctetString(f"port {i}".encode())
    t.update(extra or {})
    return t


class FakeAgent(asyncio.DatagramProtocol):
    """mode: ok | silent | garbage | loop (GETBULK always answers the same OIDs: never increasing)."""

    def __init__(self, table: dict, community: str = "public", mode: str = "ok"):
        self.rows = sorted((_oid(k), v) for k, v in table.items())
        self.community = community.encode()
        self.mode = mode
        self.transport = None
        self.requests = 0

    def connection_made(self, transport):
        self.transport = transport

    def _next(self, oid):
        for o, v in self.rows:
            if o > oid:
                return o, v
        return oid, None

    def datagram_received(self, data, addr):
        self.requests += 1
        if self.mode == "silent":
            return
        if self.mode == "garbage":
            self.transport.sendto(b"\x30\x82\xff\xff\x02\x01\x01garbage" + data[:10], addr)
            return
        version = api.decodeMessageVersion(data)
        p_mod = api.PROTOCOL_MODULES[version]
        req, _ = decoder.decode(data, asn1Spec=p_mod.Message())
        if bytes(p_mod.apiMessage.get_community(req)) != self.community:
            return  # like real agents: silence
        req_pdu = p_mod.apiMessage.get_pdu(req)
        rsp = p_mod.apiMessage.get_response(req)
        rsp_pdu = p_mod.apiMessage.get_pdu(rsp)
        asked = [tuple(o) for o, _ in p_mod.apiPDU.get_varbinds(req_pdu)]
        out = []
        v2 = p_mod is api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        table = dict(self.rows)
        if req_pdu.isSameTypeWith(p_mod.GetRequestPDU()):
            for o in asked:
                out.append((o, table.get(o, p_mod.NoSuchInstance() if v2 else rfc1902.Null(""))))
        elif req_pdu.isSameTypeWith(p_mod.GetNextRequestPDU()):
            for k, o in enumerate(asked):
                n, v = self._next(o)
                if v is None and not v2:  # SNMPv1: noSuchName at the end of the MIB
                    p_mod.apiPDU.set_error_status(rsp_pdu, 2)
                    p_mod.apiPDU.set_error_index(rsp_pdu, k + 1)
                    v = rfc1902.Null("")
                    n = o
                out.append((n, v if v is not None else p_mod.EndOfMibView()))
        else:
            nonrep = int(p_mod.apiBulkPDU.get_non_repeaters(req_pdu))
            reps = int(p_mod.apiBulkPDU.get_max_repetitions(req_pdu))
            for o in asked[:nonrep]:
                n, v = self._next(o)
                out.append((n, v if v is not None else p_mod.EndOfMibView()))
            last = asked[nonrep:]
            for _ in range(reps):
                row = []
                for k, o in enumerate(last):
                    if self.mode == "loop":
                        n, v = asked[nonrep + k], rfc1902.Counter32(1)
                    else:
                        n, v = self._next(o)
                    row.append((n, v if v is not None else p_mod.EndOfMibView()))
                out += row
                last = [n for n, _ in row]
                if len(out) > 1000:
                    break
        p_mod.apiPDU.set_varbinds(rsp_pdu, out)
        self.transport.sendto(encoder.encode(rsp), addr)


async def start_agents(specs):
    """specs: list of (table, community, mode) -> list of (transport, agent, port)."""
    loop = asyncio.get_running_loop()
    out = []
    for table, community, mode in specs:
        agent = FakeAgent(table, community, mode)
        transport, _ = await loop.create_datagram_endpoint(lambda a=agent: a, local_addr=("127.0.0.1", 0))
        out.append((transport, agent, transport.get_extra_info("sockname")[1]))
    return out


def target(port, community="public", **kw):
    # Bounds that an answering agent meets even with both cores busy (the agents share this test's event loop);
    # the tests of silence shorten them where the silence is the point.
    kw.setdefault("timeout", 3.0)
    kw.setdefault("retries", 1)
    kw.setdefault("deadline", 15.0)
    return SnmpTarget("127.0.0.1", port, community, name=f"dev{port}", **kw)


SILENCE = {"timeout": 0.3, "retries": 0, "deadline": 3.0}  # for agents that never answer: fail fast


def run(coro):
    return asyncio.run(coro)


def test_poll_many_each_device_fails_alone():
    async def main():
        agents = await start_agents([
            (device_table(), "public", "ok"),
            (device_table(), "public", "silent"),
            (device_table(), "public", "garbage"),
            (device_table(), "secret", "ok"),  # we use the wrong community
            (device_table(), "public", "loop"),
            (device_table(ports=5), "public", "ok"),
        ])
        never_answer = {agents[1][2], agents[3][2]}  # silent, and the one we give the wrong community
        try:
            return await poll_many([target(p, **(SILENCE if p in never_answer else {})) for _, _, p in agents],
                                   concurrency=3)
        finally:
            for tr, _, _ in agents:
                tr.close()

    res = run(main())
    ok, silent, garbage, wrong, loop, ok5 = res
    assert ok.ok and ok.error is None
    assert ok.sys_uptime == 123456 and ok.counter_bits == 64
    assert sorted(ok.interfaces) == [1, 2, 3]
    row = ok.interfaces[2]
    assert (row.in_octets, row.out_octets) == (2**40 + 2, 2**41 + 2)
    assert (row.in_errors, row.out_errors, row.in_discards, row.out_discards) == (4, 8, 2, 6)
    assert row.oper_status == "down" and ok.interfaces[1].oper_status == "up"
    assert ok5.ok and len(ok5.interfaces) == 5
    assert (silent.ok, silent.error) == (False, "timeout")
    assert (garbage.ok, garbage.error) == (False, "garbage")
    assert (wrong.ok, wrong.error) == (False, "timeout")  # v2c: a wrong community looks like a timeout
    assert "community" in wrong.error_message
    # the looping agent never gets past its first OIDs: the walk stops instead of spinning
    assert loop.error == "garbage" and "non-increasing" in loop.error_message


def test_32bit_fallback_and_wrong_types(caplog):
    table = device_table(hc=False, uptime=rfc1902.OctetString(b"yesterday"), extra={
        f"{IF}.14.2": rfc1902.OctetString(b"lots"),  # wrongly typed counter
        f"{IF}.20.3": rfc1902.OctetString(b"17"),  # a number in a string: accepted
        f"{IF}.8.3": rfc1902.Integer32(99),  # out-of-range status
    })

    async def main():
        (tr, _, port), = await start_agents([(table, "public", "ok")])
        try:
            return await poll_interfaces(target(port))
        finally:
            tr.close()

    with caplog.at_level(logging.WARNING, logger="onenet.collectors.snmp"):
        res = run(main())
    assert res.ok
    assert res.counter_bits == 32
    assert res.interfaces[1].in_octets == 1001 and res.interfaces[1].out_octets == 2001
    assert res.interfaces[1].counter_bits == 32
    assert res.sys_uptime is None
    assert res.interfaces[2].in_errors is None
    assert res.interfaces[3].out_errors == 17
    assert res.interfaces[3].oper_status is None
    assert any(f"dev{res.port}" in r.getMessage() for r in caplog.records)


def test_discover_tolerates_hostile_strings():
    huge = b"A" * 5000
    table = device_table(extra={
        f"{IFX}.18.1": rfc1902.OctetString(huge),
        f"{IFX}.18.2": rfc1902.OctetString(b"caf\xe9 \xff\xfe"),
        f"{IF}.2.3": rfc1902.OctetString(b"Gi\x00 3\r\n"),
        f"{IF}.6.2": rfc1902.OctetString(b""),
        "1.3.6.1.2.1.1.1.0": rfc1902.OctetString(b"Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), "
                                                 b"Version 15.0(2a)EX5\xff\xfe, RELEASE SOFTWARE"),
    })

    async def main():
        (tr, _, port), = await start_agents([(table, "public", "ok")])
        try:
            return await discover(target(port))
        finally:
            tr.close()

    res = run(main())
    assert res.ok, res.error_message
    rows = {r["ifIndex"]: r for r in res.interfaces}
    assert len(rows[1]["ifAlias"]) == 255
    assert rows[2]["ifAlias"] == "caf\ufffd \ufffd\ufffd"
    assert rows[3]["ifDescr"] == "Gi 3"
    assert rows[1]["speed_bps"] == 1_000_000_000  # ifHighSpeed
    assert rows[2]["speed_bps"] == 100_000_000  # ifHighSpeed 0: ifSpeed
    assert rows[2]["mac"] == ""
    assert rows[1]["mac"] == "0019e0000001"
    assert rows[1]["ifType"] == "ethernetCsmacd"
    assert res.system["platform"] == "cisco_ios"
    assert res.system["sysName"] == "sw1"
    assert any("capped" in w for w in res.warnings)


def test_deadline_bounds_a_silent_device():
    async def main():
        (tr, agent, port), = await start_agents([(device_table(), "public", "silent")])
        try:
            t0 = time.monotonic()
            res = await poll_interfaces(target(port, timeout=5.0, retries=5, deadline=0.8))
            return res, time.monotonic() - t0
        finally:
            tr.close()

    res, took = run(main())
    assert res.error == "timeout"
    # pysnmp alone would retry for 6 x 5 s = 30 s; the 0.8 s deadline ends it long before (margin for a busy CPU)
    assert took < 10.0


def test_unresolvable_host_fails_typed():
    res = run(poll_interfaces(SnmpTarget("no-such-host.invalid", 161, "public", timeout=0.3, retries=0,
                                         deadline=2)))
    assert not res.ok and res.error in ("timeout", "error")


@pytest.mark.parametrize("version", ["1", "2c"])
def test_versions(version):
    async def main():
        table = device_table(hc=(version != "1"))
        (tr, _, port), = await start_agents([(table, "public", "ok")])
        try:
            return await poll_interfaces(target(port, version=version))
        finally:
            tr.close()

    res = run(main())
    assert res.ok, res.error_message
    assert sorted(res.interfaces) == [1, 2, 3]
    if version == "1":  # no Counter64 in SNMPv1: 32-bit counters
        assert res.counter_bits == 32 and res.interfaces[3].in_octets == 1003
    else:
        assert res.interfaces[3].in_octets == 2**40 + 3


def _serve(table, coro_fn):
    """Run ``coro_fn(port)`` against one in-test agent serving ``table``."""
    async def main():
        (tr, _, port), = await start_agents([(table, "public", "ok")])
        try:
            return await coro_fn(port)
        finally:
            tr.close()

    return run(main())


def mixed_width_table() -> dict:
    """A switch whose front ports have 64-bit counters and whose management port (3) has only 32-bit ones."""
    table = device_table()
    del table[f"{IFX}.6.3"], table[f"{IFX}.10.3"]
    return table


def test_an_interface_without_64bit_counters_gets_its_32bit_ones_in_a_poll():
    res = _serve(mixed_width_table(), lambda port: poll_interfaces(target(port)))
    assert res.ok, res.error_message
    rows = res.interfaces
    assert (rows[1].in_octets, rows[1].out_octets, rows[1].counter_bits) == (2**40 + 1, 2**41 + 1, 64)
    assert (rows[3].in_octets, rows[3].out_octets, rows[3].counter_bits) == (1003, 2003, 32)
    # the 32-bit row carries the sysUpTime of the response that carried it, like the others
    assert rows[3].uptime == rows[1].uptime == 123456


def test_an_interface_without_64bit_counters_gets_its_32bit_ones_in_a_discovery():
    res = _serve(mixed_width_table(), lambda port: discover(target(port), with_counters=True))
    assert res.ok, res.error_message
    rows = {r["ifIndex"]: r for r in res.interfaces}
    assert (rows[2]["in_octets"], rows[2]["out_octets"], rows[2]["counter_bits"]) == (2**40 + 2, 2**41 + 2, 64)
    assert (rows[3]["in_octets"], rows[3]["out_octets"], rows[3]["counter_bits"]) == (1003, 2003, 32)


@pytest.mark.parametrize("value, name", [
    (1, "other"), (6, "ethernetCsmacd"), (24, "softwareLoopback"), (31, "sip"), (53, "propVirtual"),
    (131, "tunnel"), (145, "if-gsn"), (160, "usb"), (161, "ieee8023adLag"), (209, "bridge"), (244, "wwanPP2"),
    (262, "ifVfiType"), (280, "sdci"),
])
def test_iftype_is_the_iana_name(value, name):
    table = device_table(extra={f"{IF}.3.2": rfc1902.Integer32(value)})
    res = _serve(table, lambda port: discover(target(port)))
    assert {r["ifIndex"]: r["ifType"] for r in res.interfaces}[2] == name


def test_iftype_names_come_from_the_whole_iana_registry():
    from collectors.snmp.client.values import if_type_names

    names = if_type_names()
    assert len(names) >= 276  # IANAifType-MIB as compiled in pysnmp-mibs; a hand-picked list has a few dozen
    assert all(names[n] for n in range(1, 273))  # 1..272 are all assigned
    # a value the registry does not name stays visible as its number
    table = device_table(extra={f"{IF}.3.2": rfc1902.Integer32(9999)})
    res = _serve(table, lambda port: discover(target(port)))
    assert {r["ifIndex"]: r["ifType"] for r in res.interfaces}[2] == "9999"
