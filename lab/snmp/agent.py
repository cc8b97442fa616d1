"""The lab's SNMP agents: one asyncio loop, one UDP socket per device address, answers computed on request.

- SNMPv1 and SNMPv2c GET, GETNEXT, GETBULK over a sorted MIB view (`lab.snmp.mib.DeviceMib` or a `.snmprec`
  `Recording`); SET is refused (read-only community).  Responses never exceed `max_response` bytes: GETBULK is
  truncated to fit, a GET/GETNEXT that cannot fit gets tooBig.
- A wrong community gets no answer; a device with the `snmp-timeout` fault never answers.
- Devices with `snmp_version == "3"` answer only SNMPv3 USM authNoPriv, HMAC-SHA-96, user `onenet`, passphrase
  `lab-snmp-auth-1` (topology's SNMP_V3_USER/SNMP_V3_AUTH; engine ID discovery and usmStats reports included; no
  privacy, no time-window check).  They do not answer v1/v2c.
- Devices with status "planned" (ordered, not installed) are not bound: they never answer.
- With a state directory (the SSH devices' one), each device follows its management plane
  (lab/snmp/management.py): requests its SNMP ACLs deny, and every request while it is cut off, get no answer;
  interfaces shut down in its running config read ifAdminStatus/ifOperStatus down(2).  One stat per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import resource
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lab.snmp import ber
from lab.snmp.management import PlaneFile
from lab.snmp.mib import DeviceMib, links_by_interface

log = logging.getLogger("lab.snmp")

SHANGHAI = timezone(timedelta(hours=8))
MAX_RESPONSE = 65000  # bytes; a UDP datagram on loopback; GETBULK is truncated to fit
MAX_BULK_VARBINDS = 2000
try:
    from lab.topology import SNMP_V3_AUTH, SNMP_V3_USER
except ImportError:  # an older topology module
    SNMP_V3_USER, SNMP_V3_AUTH = "onenet", "lab-snmp-auth-1"
V3_USER = SNMP_V3_USER.encode()
V3_AUTH_PASSPHRASE = SNMP_V3_AUTH.encode()

USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
UNSUPPORTED_SEC_LEVELS = USM_STATS + (1, 0)
NOT_IN_TIME_WINDOWS = USM_STATS + (2, 0)
UNKNOWN_USER_NAMES = USM_STATS + (3, 0)
UNKNOWN_ENGINE_IDS = USM_STATS + (4, 0)
WRONG_DIGESTS = USM_STATS + (5, 0)


# -- varbind processing --------------------------------------------------------------------

def _no_such(view, oid) -> bytes:
    parent = oid[:-1]
    pos = view.next_pos(parent)
    if pos < len(view.oids) and view.oids[pos][:len(parent)] == parent:
        return ber.NO_SUCH_INSTANCE_TLV
    return ber.NO_SUCH_OBJECT_TLV


def _next_pos(view, pos: int, v1: bool, t: float) -> int:
    """The first row at or after `pos` a v1 manager may see (v1 has no Counter64)."""
    if v1:
        n = len(view.oids)
        while pos < n and view.value(pos, t)[0] == ber.COUNTER64:
            pos += 1
    return pos


def process(view, pdu: ber.Pdu, version: int, t: float, budget: int) -> tuple[int, int, bytes]:
    """(error-status, error-index, encoded varbinds) for a request on a view; `budget` bounds the varbinds."""
    v1 = version == 0
    oids = view.oids
    n = len(oids)
    tag = pdu.tag
    out = []
    size = 0
    if tag == ber.GET:
        for number, oid in enumerate(pdu.oids, 1):
            pos = view.index.get(oid)
            if pos is not None:
                value = view.value(pos, t)
                if v1 and value[0] == ber.COUNTER64:
                    return ber.NO_SUCH_NAME, number, b""
            elif v1:
                return ber.NO_SUCH_NAME, number, b""
            else:
                value = _no_such(view, oid)
            out.append(ber.varbind(ber.tlv_oid(oid) if pos is None else view.oid_tlvs[pos], value))
    elif tag == ber.GETNEXT:
        for number, oid in enumerate(pdu.oids, 1):
            pos = _next_pos(view, view.next_pos(oid), v1, t)
            if pos >= n:
                if v1:
                    return ber.NO_SUCH_NAME, number, b""
                out.append(ber.varbind(ber.tlv_oid(oid), ber.END_OF_MIB_VIEW_TLV))
            else:
                out.append(ber.varbind(view.oid_tlvs[pos], view.value(pos, t)))
    elif tag == ber.GETBULK and not v1:
        non_repeaters = max(0, min(pdu.field1, len(pdu.oids)))
        max_repetitions = max(0, pdu.field2)
        for oid in pdu.oids[:non_repeaters]:
            pos = view.next_pos(oid)
            vb = (ber.varbind(ber.tlv_oid(oid), ber.END_OF_MIB_VIEW_TLV) if pos >= n
                  else ber.varbind(view.oid_tlvs[pos], view.value(pos, t)))
            size += len(vb) + 4
            if size > budget:
                return ber.TOO_BIG, 0, b""
            out.append(vb)
        repeaters = pdu.oids[non_repeaters:]
        if repeaters and max_repetitions:
            positions = [view.next_pos(oid) for oid in repeaters]
            last = [ber.tlv_oid(oid) for oid in repeaters]
            max_repetitions = min(max_repetitions, max(1, MAX_BULK_VARBINDS // len(repeaters)))
            oid_tlvs = view.oid_tlvs
            value = view.value
            seq = ber.SEQUENCE
            for _ in range(max_repetitions):
                done = True
                row_start = len(out)
                for k, pos in enumerate(positions):
                    if pos >= n:
                        vb = ber.varbind(last[k], ber.END_OF_MIB_VIEW_TLV)
                    else:
                        done = False
                        content = oid_tlvs[pos] + value(pos, t)
                        length = len(content)
                        vb = bytes((seq, length)) + content if length < 0x80 else ber.tlv(seq, content)
                        positions[k] = pos + 1
                        last[k] = oid_tlvs[pos]
                    size += len(vb)
                    if size > budget:  # truncate to whole rows, so managers need not handle a partial row
                        if row_start > non_repeaters:
                            del out[row_start:]
                        if not out:
                            return ber.TOO_BIG, 0, b""
                        return ber.NO_ERROR, 0, b"".join(out)
                    out.append(vb)
                if done:
                    break
        return ber.NO_ERROR, 0, b"".join(out)
    elif tag == ber.SET:
        return (ber.NO_SUCH_NAME if v1 else ber.NO_ACCESS), 1, b""
    else:
        return -1, 0, b""  # not a request we answer
    body = b"".join(out)
    if len(body) > budget:
        return ber.TOO_BIG, 0, b""
    return ber.NO_ERROR, 0, body


def _request_varbinds(pdu: ber.Pdu) -> bytes:
    return b"".join(ber.varbind(ber.tlv_oid(oid), value) for oid, value in zip(pdu.oids, pdu.values, strict=True))


def answer_community(data: bytes, views: dict, max_response: int = MAX_RESPONSE) -> bytes | None:
    """The response to a v1/v2c message, or None (bad message, unknown community, nothing to answer)."""
    msg = ber.decode_community_message(data)
    if msg.version not in (0, 1):
        return None
    view = views.get(msg.community)
    if view is None:
        return None
    pdu = msg.pdu
    budget = max_response - len(msg.community) - len(pdu.request_id_tlv) - 24
    status, index, body = process(view, pdu, msg.version, time.time(), budget)
    if status < 0:
        return None
    if status != ber.NO_ERROR and status != ber.TOO_BIG:
        body = _request_varbinds(pdu)  # errors echo the request's varbinds
    return ber.community_message(msg.version, msg.community,
                                 ber.response_pdu(pdu.request_id_tlv, status, index, body))


# -- SNMPv3 USM (authNoPriv, HMAC-SHA-96) --------------------------------------------------

def password_to_key_sha(passphrase: bytes) -> bytes:
    """RFC 3414 A.2.2: SHA-1 over 1 MiB of the repeated passphrase."""
    repeated = (passphrase * (1048576 // len(passphrase) + 1))[:1048576]
    return hashlib.sha1(repeated).digest()


_KU: dict[bytes, bytes] = {}


def localized_key(passphrase: bytes, engine_id: bytes) -> bytes:
    ku = _KU.get(passphrase)
    if ku is None:
        ku = _KU[passphrase] = password_to_key_sha(passphrase)
    return hashlib.sha1(ku + engine_id + ku).digest()


class V3Engine:
    """The USM side of one device: its engine ID, boots and time, and the user's localized key."""

    def __init__(self, engine_id: bytes, boot_time, user: bytes = V3_USER, passphrase: bytes = V3_AUTH_PASSPHRASE):
        self.engine_id = engine_id
        self.boot_time = boot_time  # function t -> boot time
        self.user = user
        self.passphrase = passphrase
        self._key = None
        self.stats = {UNSUPPORTED_SEC_LEVELS: 0, NOT_IN_TIME_WINDOWS: 0, UNKNOWN_USER_NAMES: 0,
                      UNKNOWN_ENGINE_IDS: 0, WRONG_DIGESTS: 0}

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = localized_key(self.passphrase, self.engine_id)
        return self._key

    def boots_and_time(self, t: float) -> tuple[int, int]:
        boot = self.boot_time(t)
        return 1 + int(boot // 600), int(t - boot)  # snmpEngineBoots grows with each reboot

    def answer(self, data: bytes, view, max_response: int = MAX_RESPONSE) -> bytes | None:
        _, pos = ber.decode_version(data)
        gs, ge = ber.expect(data, pos, ber.SEQUENCE)
        s, e = ber.expect(data, gs, ber.INTEGER)
        msg_id = ber.decode_int(data, s, e)
        s, e = ber.expect(data, e, ber.INTEGER)
        max_size = ber.decode_int(data, s, e)
        s, e = ber.expect(data, e, ber.OCTET_STRING)
        flags = data[s] if e > s else 0
        s, e = ber.expect(data, e, ber.INTEGER)
        if ber.decode_int(data, s, e) != 3:
            return None  # not USM
        ps, pe = ber.expect(data, ge, ber.OCTET_STRING)
        ss, _ = ber.expect(data, ps, ber.SEQUENCE)
        s, e = ber.expect(data, ss, ber.OCTET_STRING)
        engine_id = data[s:e]
        s, e = ber.expect(data, e, ber.INTEGER)
        s, e = ber.expect(data, e, ber.INTEGER)
        s, e = ber.expect(data, e, ber.OCTET_STRING)
        user = data[s:e]
        auth_s, auth_e = ber.expect(data, e, ber.OCTET_STRING)
        auth_params = data[auth_s:auth_e]
        if flags & 0x02:  # privacy: not supported by the lab
            return self._report(msg_id, user, UNSUPPORTED_SEC_LEVELS, 0, max_size, flags)
        tag, cs, _ = ber.read_tlv(data, pe)
        if tag != ber.SEQUENCE:
            return None
        s, e = ber.expect(data, cs, ber.OCTET_STRING)
        s, e = ber.expect(data, e, ber.OCTET_STRING)
        context_name = data[s:e]
        pdu, _ = ber.decode_pdu(data, e)
        t = time.time()
        if engine_id != self.engine_id:
            return self._report(msg_id, user, UNKNOWN_ENGINE_IDS, pdu.request_id, max_size, 0, t)
        if user != self.user:
            return self._report(msg_id, user, UNKNOWN_USER_NAMES, pdu.request_id, max_size, 0, t)
        if not flags & 0x01:
            return self._report(msg_id, user, UNSUPPORTED_SEC_LEVELS, pdu.request_id, max_size, 0, t)
        if len(auth_params) != 12:
            return self._report(msg_id, user, WRONG_DIGESTS, pdu.request_id, max_size, 0, t)
        whole = data[:auth_s] + b"\x00" * 12 + data[auth_e:]
        if not hmac.compare_digest(hmac.new(self.key, whole, hashlib.sha1).digest()[:12], auth_params):
            return self._report(msg_id, user, WRONG_DIGESTS, pdu.request_id, max_size, 0, t)
        limit = min(max_response, max_size if max_size >= 484 else 484)
        budget = limit - len(context_name) - len(self.engine_id) * 2 - len(user) - 90
        status, index, body = process(view, pdu, 1, t, budget)
        if status < 0:
            return None
        if status != ber.NO_ERROR and status != ber.TOO_BIG:
            body = _request_varbinds(pdu)
        response = ber.response_pdu(pdu.request_id_tlv, status, index, body)
        return self._message(msg_id, max_size, 0x01, user, context_name, response, t, authenticate=True)

    def _report(self, msg_id, user, stat_oid, request_id, max_size, flags, t=None) -> bytes:
        t = time.time() if t is None else t
        self.stats[stat_oid] += 1
        varbind = ber.varbind(ber.tlv_oid(stat_oid), ber.tlv_int(self.stats[stat_oid], ber.COUNTER32))
        report = ber.response_pdu(ber.tlv_int(request_id), 0, 0, varbind, tag=ber.REPORT)
        # Reports go unauthenticated (discovery, and failures where the key does not apply)
        return self._message(msg_id, max_size, 0x00, user if stat_oid != UNKNOWN_ENGINE_IDS else b"", b"",
                             report, t, authenticate=False)

    def _message(self, msg_id, max_size, flags, user, context_name, pdu, t, authenticate) -> bytes:
        boots, engine_time = self.boots_and_time(t)
        global_data = ber.tlv(ber.SEQUENCE, ber.tlv_int(msg_id) + ber.tlv_int(MAX_RESPONSE)
                              + ber.tlv(ber.OCTET_STRING, bytes((flags,))) + ber.tlv_int(3))
        placeholder = b"\x00" * 12 if authenticate else b""
        security = ber.tlv(ber.SEQUENCE, ber.tlv(ber.OCTET_STRING, self.engine_id) + ber.tlv_int(boots)
                           + ber.tlv_int(engine_time) + ber.tlv(ber.OCTET_STRING, user)
                           + ber.tlv(ber.OCTET_STRING, placeholder) + ber.tlv(ber.OCTET_STRING, b""))
        scoped = ber.tlv(ber.SEQUENCE, ber.tlv(ber.OCTET_STRING, self.engine_id)
                         + ber.tlv(ber.OCTET_STRING, context_name) + pdu)
        head = ber.tlv_int(3) + global_data
        security_tlv = ber.tlv(ber.OCTET_STRING, security)
        message = ber.tlv(ber.SEQUENCE, head + security_tlv + scoped)
        if not authenticate:
            return message
        # the auth parameters sit just before the empty privacy parameters at the end of the security TLV
        outer_header = len(message) - len(head) - len(security_tlv) - len(scoped)
        auth_at = outer_header + len(head) + len(security_tlv) - 2 - 12
        digest = hmac.new(self.key, message, hashlib.sha1).digest()[:12]
        return message[:auth_at] + digest + message[auth_at + 12:]


def engine_id_for(name: str) -> bytes:
    """An RFC 3411 engine ID (net-snmp enterprise, format 5 = octets) derived from the device name."""
    return b"\x80\x00\x1f\x88\x05" + hashlib.blake2b(name.encode(), digest_size=8).digest()


# -- sockets -------------------------------------------------------------------------------

class _Endpoint(asyncio.DatagramProtocol):
    """One device (or one recording address): answers datagrams synchronously, no task per request."""

    def __init__(self, views: dict, v3: V3Engine | None = None, v3_view=None, silent: bool = False,
                 max_response: int = MAX_RESPONSE, plane_file: PlaneFile | None = None, mib: DeviceMib | None = None):
        self.views = views
        self.v3 = v3
        self.v3_view = v3_view
        self.silent = silent
        self.max_response = max_response
        self.transport = None
        self.requests = 0
        self.plane_file = plane_file  # the device's management state (None: recordings, or no state directory)
        self.mib = mib
        self.plane = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if self.silent:
            return
        self.requests += 1
        if self.plane_file is not None:
            plane = self.plane_file.current()
            if plane is not self.plane:
                self.plane = plane
                self.mib.set_shutdown(plane.shutdown if plane is not None else ())
            if plane is not None and not plane.admits_snmp(addr[0]):
                return  # an SNMP ACL denies the source, or the device is cut off: no answer
        try:
            if self.v3 is not None and _is_v3(data):
                response = self.v3.answer(data, self.v3_view, self.max_response)
            else:
                response = answer_community(data, self.views, self.max_response)
        except ber.DecodeError:
            return
        except Exception:  # a bug must not kill the other devices
            log.exception("error answering %r", data[:64])
            return
        if response is not None:
            self.transport.sendto(response, addr)

    def error_received(self, exc):
        pass


def _is_v3(data: bytes) -> bool:
    try:
        version, _ = ber.decode_version(data)
    except ber.DecodeError:
        return False
    return version == 3


def _raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def _bind(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # no SO_REUSEADDR: a second lab on the same addresses must fail, not share the traffic
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot bind {address}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


@dataclass
class Agent:
    """Running endpoints; `close()` stops them."""

    endpoints: dict = field(default_factory=dict)  # address -> _Endpoint
    transports: list = field(default_factory=list)
    started: float = 0.0

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        self.transports.clear()

    @property
    def requests(self) -> int:
        return sum(endpoint.requests for endpoint in self.endpoints.values())


def lab_epoch(now: float | None = None) -> float:
    """Midnight (Asia/Shanghai) on the first day of the current month: the default boot reference."""
    local = datetime.fromtimestamp(time.time() if now is None else now, SHANGHAI)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


async def start(topology, port: int = 161, shard: int = 0, shards: int = 1, started: float | None = None,
                max_response: int = MAX_RESPONSE, state_dir: str | Path | None = None) -> Agent:
    """Bind the shard's devices (index % shards == shard) on their addresses and return the running Agent.

    `state_dir` is the SSH devices' state directory: each device then follows the management state they publish
    under `mgmt/` (SNMP ACLs, shut interfaces, management cut).

    `started` is the lab's epoch (default `lab_epoch()`, the start of the current month): devices that do not
    reboot have been up since 1-40 days before it, so restarting the agents within a month changes no counter;
    devices with the `reboots` fault reboot every 20-40 minutes at a deterministic phase of the clock.
    """
    loop = asyncio.get_running_loop()
    started = lab_epoch() if started is None else started
    ends = links_by_interface(topology)
    sites = {site.slug: site for site in getattr(topology, "sites", [])}
    devices = [(n, d) for n, d in enumerate(topology.devices) if n % shards == shard and d.status != "planned"]
    _raise_file_limit(len(devices))
    agent = Agent(started=started)
    try:
        for number, device in devices:
            site = sites.get(device.site)
            mib = DeviceMib(device, ends, started, number,
                            location=f"{site.name} ({device.site})" if site is not None else None)
            v3 = None
            if device.snmp_version == "3":
                v3 = V3Engine(engine_id_for(device.name), mib.boot_time)
            # a v3 device is v3-only, like a hardened real one: its community gets no answer
            plane_file = PlaneFile(Path(state_dir) / "mgmt" / f"{device.name}.json") if state_dir else None
            endpoint = _Endpoint({} if v3 else {mib.community: mib}, v3, mib, silent="snmp-timeout" in device.faults,
                                 max_response=max_response, plane_file=plane_file, mib=mib)
            transport, _ = await loop.create_datagram_endpoint(lambda e=endpoint: e, sock=_bind(device.address, port))
            agent.transports.append(transport)
            agent.endpoints[device.address] = endpoint
    except BaseException:
        agent.close()
        raise
    return agent


async def _run_until_cancelled(agent: Agent, ready) -> None:
    try:
        if ready is not None:
            ready(agent)
        await asyncio.Event().wait()
    finally:
        agent.close()


async def serve(topology, port: int = 161, shard: int = 0, shards: int = 1, started: float | None = None,
                max_response: int = MAX_RESPONSE, ready=None, state_dir: str | Path | None = None) -> None:
    """Serve the shard's devices until cancelled. `ready(agent)` is called once everything is bound."""
    await _run_until_cancelled(await start(topology, port, shard, shards, started, max_response, state_dir), ready)


async def start_recordings(paths, address: str = "127.0.0.1", port: int = 161,
                           max_response: int = MAX_RESPONSE) -> Agent:
    """Serve `.snmprec` files on one address; each file's community is its stem (snmpsim's convention)."""
    from lab.snmp.snmprec import load

    views = {}
    for path in paths:
        recording = load(path)
        if recording.community in views:
            raise ValueError(f"two recordings with the community {recording.community.decode()!r}: "
                             f"{Path(path).name}")
        views[recording.community] = recording
    loop = asyncio.get_running_loop()
    endpoint = _Endpoint(views, max_response=max_response)
    transport, _ = await loop.create_datagram_endpoint(lambda: endpoint, sock=_bind(address, port))
    return Agent(endpoints={address: endpoint}, transports=[transport], started=time.time())


async def serve_recordings(paths, address: str = "127.0.0.1", port: int = 161, max_response: int = MAX_RESPONSE,
                           ready=None) -> None:
    """Serve recordings until cancelled (community = file stem, several files share the address)."""
    await _run_until_cancelled(await start_recordings(paths, address, port, max_response), ready)
