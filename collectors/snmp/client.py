"""SNMP collection core: a bounded, tolerant pysnmp 7 asyncio client.

- one ``SnmpEngine`` per process (per event loop, since pysnmp binds its transport to the running loop);
- GETBULK of just the needed columns, several columns per request, with a bounded walk that stops at the
  end of each column, on a non-increasing OID and on the first error;
- every request is bounded by an ``asyncio.wait_for`` deadline of our own, and every device by a total
  deadline (pysnmp alone may keep yielding timeouts forever);
- v1/v2c communities and v3 USM (authNoPriv SHA, or whatever protocols the target names);
- ``poll_many`` bounds concurrency with a semaphore; a device that is unreachable, slow or lying fails
  alone with a typed :class:`SnmpError` kind (``timeout``, ``auth``, ``garbage``, ``error``);
- values are decoded defensively: wrong types, garbage, truncated tables, duplicate indexes, huge or
  non-UTF-8 strings are logged with the device name and skipped or capped, never raised.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import os
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as engine_config
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v1arch.asyncio import CommunityData as V1CommunityData
from pysnmp.hlapi.v1arch.asyncio import SnmpDispatcher
from pysnmp.hlapi.v1arch.asyncio import UdpTransportTarget as V1UdpTransportTarget
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import api, errind, rfc1902, rfc1905

from .identify import decode_text, identify, normalize_oid

log = logging.getLogger("onenet.collectors.snmp")

# ------------------------------------------------------------------ OIDs

SYS = "1.3.6.1.2.1.1"
SYS_DESCR = SYS + ".1.0"
SYS_OBJECT_ID = SYS + ".2.0"
SYS_UPTIME = SYS + ".3.0"
SYS_CONTACT = SYS + ".4.0"
SYS_NAME = SYS + ".5.0"
SYS_LOCATION = SYS + ".6.0"

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
COLUMNS = {
    "ifDescr": IF + ".2",
    "ifType": IF + ".3",
    "ifMtu": IF + ".4",
    "ifSpeed": IF + ".5",
    "ifPhysAddress": IF + ".6",
    "ifAdminStatus": IF + ".7",
    "ifOperStatus": IF + ".8",
    "ifInOctets": IF + ".10",
    "ifInDiscards": IF + ".13",
    "ifInErrors": IF + ".14",
    "ifOutOctets": IF + ".16",
    "ifOutDiscards": IF + ".19",
    "ifOutErrors": IF + ".20",
    "ifName": IFX + ".1",
    "ifHCInOctets": IFX + ".6",
    "ifHCOutOctets": IFX + ".10",
    "ifHighSpeed": IFX + ".15",
    "ifAlias": IFX + ".18",
    "entPhysicalClass": "1.3.6.1.2.1.47.1.1.1.1.5",
    "entPhysicalModelName": "1.3.6.1.2.1.47.1.1.1.1.13",
}

POLL_COLUMNS = ("ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards",
                "ifOutDiscards", "ifOperStatus")
POLL_COLUMNS_32 = ("ifInOctets", "ifOutOctets")
DISCOVER_COLUMNS = ("ifDescr", "ifType", "ifMtu", "ifSpeed", "ifPhysAddress", "ifAdminStatus",
                    "ifOperStatus", "ifName", "ifHighSpeed", "ifAlias")

IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
             7: "lowerLayerDown"}
IF_TYPES = {
    1: "other", 6: "ethernetCsmacd", 23: "ppp", 24: "softwareLoopback", 32: "frameRelay", 37: "atm",
    53: "propVirtual", 54: "propMultiplexor", 71: "ieee80211", 117: "gigabitEthernet", 131: "tunnel",
    135: "l2vlan", 136: "l3ipvlan", 142: "ipForward", 150: "mplsTunnel", 161: "ieee8023adLag",
    166: "mpls", 209: "bridge", 244: "wwanPP2",
}

MAX_STRING = 255  # ifName/ifDescr/ifAlias are DisplayString(SIZE(0..255)) / (0..64)
MAX_SYSDESCR = 2048
MAX_ROWS = 20000  # per column: no real device has more interfaces than that
MAX_IFINDEX = 2**31 - 1


# ------------------------------------------------------------------ public types


class SnmpError(Exception):
    """A typed failure of one device. ``kind`` is one of timeout, auth, garbage, error."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self):
        return f"{self.kind}: {self.message}"


@dataclass
class SnmpTarget:
    """How to reach one device. ``version`` is '1', '2c' or '3'."""

    host: str
    port: int = 161
    community: str = "public"
    version: str = "2c"
    name: str | None = None
    # SNMPv3 (USM). auth_protocol: SHA (default), MD5, SHA224, SHA256, SHA384, SHA512, NONE
    user: str | None = None
    auth_key: str | None = None
    auth_protocol: str = "SHA"
    priv_key: str | None = None
    priv_protocol: str = "NONE"
    context: str = ""  # SNMPv3 context name
    # timing: pysnmp per-request timeout/retries, our own per-device deadline
    timeout: float = 2.0
    retries: int = 1
    deadline: float = 30.0
    # var-binds asked per GETBULK (max-repetitions = max_varbinds // columns); agents may send fewer
    max_varbinds: int = 128

    def __post_init__(self):
        self.version = str(self.version).lower().lstrip("v")
        if self.version not in ("1", "2c", "3"):
            self.version = "2c"
        self.port = int(self.port)
        if not self.name:
            self.name = f"{self.host}:{self.port}"

    @classmethod
    def coerce(cls, obj: Any) -> SnmpTarget:
        if isinstance(obj, SnmpTarget):
            return obj
        if isinstance(obj, dict):
            known = {k: v for k, v in obj.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        if isinstance(obj, (tuple, list)):
            return cls(*obj)
        if isinstance(obj, str):
            host, _, port = obj.rpartition(":") if obj.count(":") == 1 else (obj, "", "")
            return cls(host=host or obj, port=int(port) if port else 161)
        raise TypeError(f"cannot make an SnmpTarget from {type(obj).__name__}")

    def key(self) -> tuple:
        return (self.host, self.port, self.version, self.community, self.user, self.auth_key,
                self.auth_protocol, self.priv_key, self.priv_protocol, self.context, self.timeout, self.retries)


@dataclass
class InterfaceCounters:
    ifIndex: int  # noqa: N815 - IF-MIB names
    in_octets: int | None = None
    out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    oper_status: str | None = None
    counter_bits: int = 64


@dataclass
class DevicePoll:
    """Result of one counter poll of one device (``error`` set when it failed)."""

    name: str
    host: str
    port: int
    ok: bool = False
    error: str | None = None  # timeout | auth | garbage | error
    error_message: str | None = None
    timestamp: float = 0.0  # time.time() when the answer arrived
    elapsed: float = 0.0
    sys_uptime: int | None = None  # TimeTicks (1/100 s)
    counter_bits: int = 64  # 64 when ifHC* were read, 32 on fallback
    interfaces: dict[int, InterfaceCounters] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["interfaces"] = [asdict(v) for _, v in sorted(self.interfaces.items())]
        return d


@dataclass
class DeviceDiscovery:
    """Result of ``discover``: system group, identity and the interface table."""

    name: str
    host: str
    port: int
    ok: bool = False
    error: str | None = None
    error_message: str | None = None
    elapsed: float = 0.0
    system: dict = field(default_factory=dict)
    counter_bits: int = 64
    interfaces: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------ value coercion

_INT_TYPES = (univ.Integer, rfc1902.Counter32, rfc1902.Counter64, rfc1902.Gauge32, rfc1902.TimeTicks,
              rfc1902.Unsigned32, rfc1902.Integer32)
_END_TYPES = (rfc1905.EndOfMibView, rfc1905.NoSuchObject, rfc1905.NoSuchInstance)


def _oid_str(oid) -> str:
    return ".".join(str(x) for x in tuple(oid))


def as_int(value, *, lo: int = 0, hi: int = 2**64 - 1) -> int | None:
    """An integer from an SNMP value, tolerating OctetStrings with digits; None when absurd."""
    if value is None or isinstance(value, _END_TYPES) or isinstance(value, univ.Null):
        return None
    try:
        if isinstance(value, (univ.OctetString, bytes, bytearray, str)):
            text = decode_text(value, 32)
            text = (text or "").strip()
            if not text or not text.lstrip("-").isdigit():
                return None
            n = int(text)
        elif isinstance(value, univ.ObjectIdentifier):
            return None
        else:
            n = int(value)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    except Exception:  # noqa: BLE001 - pyasn1 raises its own errors on uninitialised values
        return None
    if n < lo or n > hi:
        return None
    return n


def as_text(value, limit: int = MAX_STRING) -> str | None:
    if value is None or isinstance(value, _END_TYPES) or isinstance(value, univ.Null):
        return None
    try:
        if isinstance(value, univ.OctetString):
            return decode_text(bytes(value), limit)
        if isinstance(value, univ.ObjectIdentifier):
            return _oid_str(value)
        if isinstance(value, univ.Integer):
            return str(int(value))
        return decode_text(value, limit)
    except Exception:  # noqa: BLE001
        return None


def _strip(text: str | None) -> str | None:
    return text.strip() if text is not None else None


def as_mac(value) -> str | None:
    """ifPhysAddress as 12 lowercase hex digits ('' for an empty address), None when unusable."""
    if value is None or isinstance(value, _END_TYPES):
        return None
    try:
        raw = bytes(value) if isinstance(value, univ.OctetString) else None
    except Exception:  # noqa: BLE001
        raw = None
    if raw is None:
        return None
    if len(raw) == 0:
        return ""
    if len(raw) in (6, 8):
        return raw.hex()
    # some agents answer the textual form "00:11:22:33:44:55" or "0011.2233.4455"
    text = raw.decode("ascii", errors="ignore").strip().replace(":", "").replace("-", "").replace(".", "")
    if len(text) == 12 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    return raw[:32].hex()


def as_oid(value) -> str | None:
    if isinstance(value, univ.ObjectIdentifier):
        return _oid_str(value)
    return normalize_oid(as_text(value, 256))


def status_name(value) -> str | None:
    n = as_int(value, lo=1, hi=7)
    return IF_STATUS.get(n) if n is not None else None


def type_name(value) -> str | None:
    n = as_int(value, lo=0, hi=10000)
    if n is None:
        return None
    return IF_TYPES.get(n, str(n))


# ------------------------------------------------------------------ engine / connections

_ENGINES: dict[tuple, SnmpEngine] = {}  # (pid, id(loop)) -> v3 engine; one per process and loop
_DISPATCHERS: dict[tuple, SnmpDispatcher] = {}  # (pid, id(loop)) -> v1/v2c dispatcher
_CONNS: dict[tuple, tuple] = {}  # (loop key, target key) -> connection


SOCKET_BUFFER = 4 << 20  # answers pile up while we decode: a small receive buffer drops them (= timeouts)


class _BigBufferUdp(udp.UdpAsyncioTransport):
    """pysnmp's UDP client transport with large socket buffers (capped by net.core.rmem_max)."""

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
                except OSError:
                    pass
        super().connection_made(transport)


class _Dispatcher(SnmpDispatcher):
    """pysnmp's v1/v2c dispatcher (no LCD tables: linear in targets), remembering undecodable answers."""

    def __init__(self):
        super().__init__()
        self.garbage: dict[tuple, str] = {}
        self.transport_dispatcher.register_transport(udp.DOMAIN_NAME, _BigBufferUdp().open_client_mode())
        self._configuredTransports.add(udp.DOMAIN_NAME)

    def _recv_callback(self, snmpEngine, transportDomain, transportAddress, wholeMsg):  # noqa: N803
        try:
            return super()._recv_callback(snmpEngine, transportDomain, transportAddress, wholeMsg)
        except Exception as exc:  # noqa: BLE001 - a lying agent must not break the dispatcher
            try:
                key = (str(transportAddress[0]), int(transportAddress[1]))
            except Exception:  # noqa: BLE001
                key = ("?", 0)
            if len(self.garbage) > 10000:
                self.garbage.clear()
            self.garbage[key] = f"undecodable response ({type(exc).__name__}: {str(exc)[:120]})"
            return b""


def _loop_key() -> tuple:
    return (os.getpid(), id(asyncio.get_running_loop()))


def _forget_other_loops(key: tuple) -> None:
    for table in (_ENGINES, _DISPATCHERS):
        for k in list(table):
            if k != key:
                table.pop(k, None)
    for k in list(_CONNS):
        if k[0] != key:
            _CONNS.pop(k, None)


def get_dispatcher() -> _Dispatcher:
    key = _loop_key()
    disp = _DISPATCHERS.get(key)
    if disp is None:
        if key not in _ENGINES:
            _forget_other_loops(key)
        disp = _Dispatcher()
        _DISPATCHERS[key] = disp
    return disp


def get_engine() -> SnmpEngine:
    """The process's SnmpEngine (v3). Engines of dead loops are forgotten (probe() runs one loop per call)."""
    key = _loop_key()
    eng = _ENGINES.get(key)
    if eng is None:
        if key not in _DISPATCHERS:
            _forget_other_loops(key)
        eng = SnmpEngine()
        engine_config.add_transport(eng, udp.DOMAIN_NAME, _BigBufferUdp().open_client_mode())
        _ENGINES[key] = eng
    return eng


def _auth_data(t: SnmpTarget):
    if t.version == "3":
        from pysnmp.hlapi.v3arch import asyncio as hl

        auth_map = {
            "SHA": hl.usmHMACSHAAuthProtocol, "SHA1": hl.usmHMACSHAAuthProtocol,
            "MD5": hl.usmHMACMD5AuthProtocol, "SHA224": hl.usmHMAC128SHA224AuthProtocol,
            "SHA256": hl.usmHMAC192SHA256AuthProtocol, "SHA384": hl.usmHMAC256SHA384AuthProtocol,
            "SHA512": hl.usmHMAC384SHA512AuthProtocol, "NONE": hl.usmNoAuthProtocol,
        }
        priv_map = {
            "NONE": hl.usmNoPrivProtocol, "DES": hl.usmDESPrivProtocol, "AES": hl.usmAesCfb128Protocol,
            "AES128": hl.usmAesCfb128Protocol, "AES192": hl.usmAesCfb192Protocol,
            "AES256": hl.usmAesCfb256Protocol, "3DES": hl.usm3DESEDEPrivProtocol,
        }
        auth_proto = auth_map.get((t.auth_protocol or "SHA").upper(), hl.usmHMACSHAAuthProtocol)
        priv_proto = priv_map.get((t.priv_protocol or "NONE").upper(), hl.usmNoPrivProtocol)
        if not t.auth_key:
            auth_proto = hl.usmNoAuthProtocol
        if not t.priv_key:
            priv_proto = hl.usmNoPrivProtocol
        return UsmUserData(
            t.user or "", authKey=t.auth_key or None, privKey=t.priv_key or None,
            authProtocol=auth_proto, privProtocol=priv_proto,
        )
    return CommunityData(t.community, mpModel=0 if t.version == "1" else 1)


async def _transport(cls, t: SnmpTarget):
    try:
        ipaddress.IPv4Address(t.host)
    except ValueError:
        try:
            return await asyncio.wait_for(
                cls.create((t.host, t.port), timeout=t.timeout, retries=t.retries),
                timeout=max(1.0, t.timeout * 2),
            )
        except (TimeoutError, OSError) as exc:
            raise SnmpError("timeout", f"cannot resolve {t.host}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - pysnmp wraps resolution failures in PySnmpError
            raise SnmpError("error", f"cannot resolve {t.host}: {exc}") from None
    # an address literal: no resolver round trip through the executor
    transport = cls.__new__(cls)
    transport.transport_address = (t.host, t.port)
    transport.__init__(timeout=t.timeout, retries=t.retries)
    return transport


async def _connect(t: SnmpTarget):
    """v3: (engine, addrName) configured in the engine's LCD; v1/v2c: (dispatcher, auth, transport)."""
    key = (_loop_key(), t.key())
    conn = _CONNS.get(key)
    if conn is None:
        if t.version == "3":
            engine = get_engine()
            transport = await _transport(UdpTransportTarget, t)
            addr_name, _params = LCD.configure(engine, _auth_data(t), transport, b"")
            conn = ("v3", engine, addr_name, (t.context or "").encode())
        else:
            disp = get_dispatcher()
            transport = await _transport(V1UdpTransportTarget, t)
            auth = V1CommunityData(t.community, mpModel=0 if t.version == "1" else 1)
            conn = ("v1", disp, auth, transport)
        _CONNS[key] = conn
    return conn


_AUTH_ERRORS = (
    errind.UnknownUserName, errind.WrongDigest, errind.UnknownEngineID, errind.NotInTimeWindow,
    errind.AuthenticationError, errind.AuthenticationFailure, errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName, errind.UnsupportedAuthProtocol, errind.UnsupportedPrivProtocol,
    errind.DecryptionError, errind.EncryptionError, errind.UnknownCommunityName, errind.NoEncryption,
    errind.NoAuthentication, errind.ReportPduReceived,
)


def _classify(err_ind) -> SnmpError:
    text = str(err_ind)
    if isinstance(err_ind, errind.RequestTimedOut):
        return SnmpError("timeout", "no response (timeout, unreachable or wrong community)")
    if isinstance(err_ind, _AUTH_ERRORS):
        return SnmpError("auth", text)
    if isinstance(err_ind, (errind.DeserializationError, errind.InvalidMsg, errind.EmptyResponse,
                            errind.OidNotIncreasing, errind.DataMismatch)):
        return SnmpError("garbage", text)
    low = text.lower()
    if "timed out" in low or "timeout" in low:
        return SnmpError("timeout", text)
    if any(w in low for w in ("usm", "user", "digest", "auth", "engine", "time window", "community")):
        return SnmpError("auth", text)
    return SnmpError("error", text)


class _Session:
    """One device's requests, bounded by the device deadline."""

    def __init__(self, target: SnmpTarget, conn: tuple, deadline_at: float):
        self.t = target
        self.conn = conn
        self.deadline_at = deadline_at
        self.warnings: list[str] = []
        self.requests = 0

    def warn(self, msg: str):
        if len(self.warnings) < 50:
            self.warnings.append(msg)
            log.warning("snmp %s: %s", self.t.name, msg)

    def _request_budget(self) -> float:
        left = self.deadline_at - time.monotonic()
        if left <= 0:
            raise SnmpError("timeout", f"device deadline of {self.t.deadline:.1f}s exceeded")
        per_req = self.t.timeout * (self.t.retries + 1) + 0.5
        return min(left, per_req)

    async def _send(self, kind: str, varbinds, non_repeaters: int = 0, max_repetitions: int = 0):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        vbs = [(rfc1902.ObjectName(oid), univ.Null("")) for oid in varbinds]
        self.requests += 1
        if self.conn[0] == "v3":
            _, engine, addr, ctx_name = self.conn

            def cb(snmp_engine, handle, err_ind, err_status, err_index, var_binds, ctx):
                if not fut.done():
                    fut.set_result((err_ind, err_status, err_index, var_binds))

            if kind == "bulk":
                cmdgen.BulkCommandGeneratorSingleRun().send_varbinds(
                    engine, addr, None, ctx_name, non_repeaters, max_repetitions, vbs, cb)
            elif kind == "next":
                cmdgen.NextCommandGeneratorSingleRun().send_varbinds(engine, addr, None, ctx_name, vbs, cb)
            else:
                cmdgen.GetCommandGenerator().send_varbinds(engine, addr, None, ctx_name, vbs, cb)
        else:
            _, disp, auth, transport = self.conn
            p_mod = api.PROTOCOL_MODULES[auth.mpModel]
            if kind == "bulk":
                pdu = p_mod.GetBulkRequestPDU()
                p_mod.apiBulkPDU.set_defaults(pdu)
                p_mod.apiBulkPDU.set_non_repeaters(pdu, non_repeaters)
                p_mod.apiBulkPDU.set_max_repetitions(pdu, max_repetitions)
            elif kind == "next":
                pdu = p_mod.GetNextRequestPDU()
                p_mod.apiPDU.set_defaults(pdu)
            else:
                pdu = p_mod.GetRequestPDU()
                p_mod.apiPDU.set_defaults(pdu)
            p_mod.apiPDU.set_varbinds(pdu, vbs)
            api_pdu = p_mod.apiBulkPDU if kind == "bulk" else p_mod.apiPDU

            def cb(dispatcher, request_id, err_ind, rsp_pdu, ctx):
                if fut.done():
                    return
                if err_ind or rsp_pdu is None:
                    fut.set_result((err_ind or errind.requestTimedOut, 0, 0, ()))
                    return
                try:
                    fut.set_result((None, api_pdu.get_error_status(rsp_pdu),
                                    api_pdu.get_error_index(rsp_pdu, muteErrors=True),
                                    api_pdu.get_varbinds(rsp_pdu)))
                except Exception as exc:  # noqa: BLE001
                    fut.set_result((errind.DeserializationError(str(exc)), 0, 0, ()))

            disp.send_pdu(auth, transport, pdu, cbFun=cb)
        try:
            err_ind, err_status, err_index, var_binds = await asyncio.wait_for(fut, self._request_budget())
        except TimeoutError:
            err_ind = errind.requestTimedOut
        if err_ind:
            exc = _classify(err_ind)
            if exc.kind == "timeout" and self.conn[0] == "v3":
                exc = SnmpError("timeout", "no response (timeout, unreachable or unknown context)")
            if exc.kind == "timeout" and self.conn[0] == "v1":
                junk = self.conn[1].garbage.get((self.t.host, self.t.port))
                if junk:
                    raise SnmpError("garbage", junk)
            raise exc
        if self.conn[0] == "v1" and self.conn[1].garbage:
            self.conn[1].garbage.pop((self.t.host, self.t.port), None)
        return int(err_status or 0), int(err_index or 0), list(var_binds or ())

    async def get(self, oids: list[str]) -> dict[str, Any]:
        status, index, vbs = await self._send("get", oids)
        if status:
            # v1 noSuchName or a picky agent: ask one by one, tolerate missing ones
            if len(oids) > 1:
                out = {}
                for oid in oids:
                    try:
                        out.update(await self.get([oid]))
                    except SnmpError as exc:
                        if exc.kind in ("timeout", "auth"):
                            raise
                return out
            return {}
        out = {}
        for name, value in vbs:
            if isinstance(value, _END_TYPES):
                continue
            out[_oid_str(name)] = value
        return out

    async def walk_columns(
        self, columns: dict[str, str], scalars: list[str] | None = None, max_rows: int = MAX_ROWS
    ) -> tuple[dict[str, dict[int, Any]], dict[str, Any]]:
        """Walk several table columns at once with GETBULK (GETNEXT for v1).

        Returns ({column name: {ifIndex: value}}, {scalar oid: value}). A column stops at its end,
        at a non-increasing OID, after ``max_rows`` rows; a timeout/auth error on the first request
        propagates, on later ones the walk keeps what it has and records a warning.
        """
        scalars = list(scalars or [])
        prefixes = {name: tuple(int(x) for x in oid.split(".")) for name, oid in columns.items()}
        last: dict[str, tuple] = dict(prefixes)
        data: dict[str, dict[int, Any]] = {name: {} for name in columns}
        active = list(columns)
        scalar_vals: dict[str, Any] = {}
        max_vb = max(1, int(self.t.max_varbinds))
        first = True
        while active:
            n = len(active)
            if self.t.version == "1":
                if scalars and first:
                    scalar_vals.update(await self.get(scalars))
                try:
                    status, index, vbs = await self._send("next", [_oid_str(last[c]) for c in active])
                except SnmpError:
                    if first:
                        raise
                    break
                nonrep = 0
                if status:
                    # v1 answers noSuchName at the end of the MIB: finish the offending column
                    bad = active[index - 1] if 0 < index <= n else None
                    if bad is None:
                        break
                    active.remove(bad)
                    first = False
                    continue
            else:
                reps = max(1, max_vb // n)
                # non-repeaters have GETNEXT semantics: ask for the parent of x.0 to get x.0 itself
                req_scalars = [o[:-2] if o.endswith(".0") else o for o in scalars] if first else []
                try:
                    status, index, vbs = await self._send(
                        "bulk", req_scalars + [_oid_str(last[c]) for c in active], len(req_scalars), reps)
                except SnmpError as exc:
                    if first:
                        raise
                    self.warn(f"walk stopped early: {exc}")
                    break
                if status:
                    if status == 1 and max_vb > 1:  # tooBig: ask for less
                        max_vb = max(1, max_vb // 2)
                        continue
                    if first:
                        raise SnmpError("error", f"agent error-status {status} at index {index}")
                    self.warn(f"walk stopped on error-status {status}")
                    break
                nonrep = len(req_scalars)
                for (name, value) in vbs[:nonrep]:
                    if not isinstance(value, _END_TYPES) and _oid_str(name) in scalars:
                        scalar_vals[_oid_str(name)] = value
            first = False
            done: set[str] = set()
            progressed = False
            for i, (name, value) in enumerate(vbs[nonrep:]):
                col = active[i % n]
                if col in done:
                    continue
                try:
                    oid = tuple(name)
                except Exception:  # noqa: BLE001
                    done.add(col)
                    continue
                prefix = prefixes[col]
                if isinstance(value, rfc1905.EndOfMibView) or oid[: len(prefix)] != prefix:
                    done.add(col)
                    continue
                if oid <= last[col]:
                    self.warn(f"{col}: non-increasing OID {_oid_str(oid)}, column stopped")
                    done.add(col)
                    continue
                last[col] = oid
                progressed = True
                suffix = oid[len(prefix):]
                if isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance)):
                    continue
                if len(suffix) != 1 or not (0 < suffix[0] <= MAX_IFINDEX):
                    if col.startswith("ent"):
                        if len(suffix) == 1:
                            data[col][suffix[0]] = value
                        continue
                    self.warn(f"{col}: odd index {_oid_str(suffix)} skipped")
                    continue
                idx = suffix[0]
                if idx in data[col]:
                    self.warn(f"{col}: duplicate ifIndex {idx} ignored")
                    continue
                data[col][idx] = value
                if len(data[col]) >= max_rows:
                    self.warn(f"{col}: more than {max_rows} rows, truncated")
                    done.add(col)
            if not vbs[nonrep:]:
                break
            if not progressed and not done:
                break
            active = [c for c in active if c not in done]
        return data, scalar_vals


def _budget(target: SnmpTarget) -> float:
    return time.monotonic() + max(0.1, float(target.deadline))


async def _session(target: SnmpTarget) -> _Session:
    return _Session(target, await _connect(target), _budget(target))


async def _guard(target: SnmpTarget, coro):
    """Run ``coro`` under the device deadline; convert every failure into an SnmpError."""
    try:
        return await asyncio.wait_for(coro, timeout=max(0.1, float(target.deadline)) + 1.0)
    except SnmpError:
        raise
    except TimeoutError:
        raise SnmpError("timeout", f"device deadline of {target.deadline:.1f}s exceeded") from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a lying device must fail alone, typed
        log.warning("snmp %s: unexpected %s: %s", target.name, type(exc).__name__, exc)
        raise SnmpError("garbage", f"{type(exc).__name__}: {exc}") from None


async def get_scalars(target, oids: list[str]) -> dict[str, Any]:
    """GET a few scalars (raw pysnmp values by dotted OID). Raises SnmpError on failure."""
    t = SnmpTarget.coerce(target)

    async def run():
        s = await _session(t)
        return await s.get(list(oids))

    return await _guard(t, run())


# ------------------------------------------------------------------ poll


async def _poll(target: SnmpTarget, result: DevicePoll):
    s = await _session(target)
    cols = {c: COLUMNS[c] for c in POLL_COLUMNS}
    data, scalars = await s.walk_columns(cols, scalars=[SYS_UPTIME])
    bits = 64
    if not data["ifHCInOctets"] and not data["ifHCOutOctets"]:
        data32, _ = await s.walk_columns({c: COLUMNS[c] for c in POLL_COLUMNS_32})
        data["ifHCInOctets"] = data32["ifInOctets"]
        data["ifHCOutOctets"] = data32["ifOutOctets"]
        bits = 32
    result.timestamp = time.time()
    uptime_raw = scalars.get(SYS_UPTIME)
    if uptime_raw is None and target.version == "1":
        uptime_raw = (await s.get([SYS_UPTIME])).get(SYS_UPTIME)
    result.sys_uptime = as_int(uptime_raw, hi=2**32 - 1)
    if uptime_raw is not None and result.sys_uptime is None:
        s.warn(f"sysUpTime has a wrong value {type(uptime_raw).__name__}")
    hi = 2**64 - 1 if bits == 64 else 2**32 - 1
    indexes = set()
    for col in data.values():
        indexes.update(col)
    for idx in sorted(indexes):
        row = InterfaceCounters(ifIndex=idx, counter_bits=bits)
        for attr, col, maxv in (
            ("in_octets", "ifHCInOctets", hi), ("out_octets", "ifHCOutOctets", hi),
            ("in_errors", "ifInErrors", 2**32 - 1), ("out_errors", "ifOutErrors", 2**32 - 1),
            ("in_discards", "ifInDiscards", 2**32 - 1), ("out_discards", "ifOutDiscards", 2**32 - 1),
        ):
            raw = data[col].get(idx)
            if raw is None:
                continue
            v = as_int(raw, hi=maxv)
            if v is None:
                s.warn(f"{col}.{idx}: unusable value of type {type(raw).__name__}")
            setattr(row, attr, v)
        raw = data["ifOperStatus"].get(idx)
        row.oper_status = status_name(raw)
        if raw is not None and row.oper_status is None:
            s.warn(f"ifOperStatus.{idx}: unusable value")
        result.interfaces[idx] = row
    result.counter_bits = bits
    if not result.interfaces and any("non-increasing" in w for w in s.warnings):
        raise SnmpError("garbage", "agent answers non-increasing OIDs")
    if result.sys_uptime is None and not result.interfaces:
        raise SnmpError("garbage", "no usable sysUpTime and no interface counters")
    result.warnings = s.warnings


async def poll_interfaces(target) -> DevicePoll:
    """One counter poll of one device. Never raises for device faults: see ``result.error``."""
    t = SnmpTarget.coerce(target)
    result = DevicePoll(name=t.name, host=t.host, port=t.port)
    start = time.monotonic()
    try:
        await _guard(t, _poll(t, result))
        result.ok = True
    except SnmpError as exc:
        result.ok = False
        result.error, result.error_message = exc.kind, exc.message
        result.interfaces = {}
        log.info("snmp %s: poll failed: %s", t.name, exc)
    result.elapsed = time.monotonic() - start
    if not result.timestamp:
        result.timestamp = time.time()
    return result


# ------------------------------------------------------------------ discovery


async def _discover(target: SnmpTarget, result: DeviceDiscovery, with_counters: bool = False):
    s = await _session(target)
    sys_oids = [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION]
    system_raw = await s.get(sys_oids)
    cols = {c: COLUMNS[c] for c in DISCOVER_COLUMNS}
    if with_counters:
        cols.update({c: COLUMNS[c] for c in POLL_COLUMNS})
    data, _ = await s.walk_columns(cols)
    bits = 64
    if with_counters and not data["ifHCInOctets"] and not data["ifHCOutOctets"]:
        d32, _ = await s.walk_columns({c: COLUMNS[c] for c in POLL_COLUMNS_32})
        data["ifHCInOctets"], data["ifHCOutOctets"] = d32["ifInOctets"], d32["ifOutOctets"]
        bits = 32
    # chassis model from ENTITY-MIB (bounded; optional)
    ent_models: list[str] = []
    try:
        ent, _ = await s.walk_columns(
            {"entPhysicalClass": COLUMNS["entPhysicalClass"],
             "entPhysicalModelName": COLUMNS["entPhysicalModelName"]}, max_rows=2000)
        names = ent["entPhysicalModelName"]
        chassis = [i for i, v in sorted(ent["entPhysicalClass"].items()) if as_int(v) == 3]
        for i in chassis + sorted(names):
            m = as_text(names.get(i), 64)
            if m and m.strip() and m.strip() not in ent_models:
                ent_models.append(m.strip())
    except SnmpError as exc:
        if exc.kind == "auth":
            raise
        s.warn(f"ENTITY-MIB not readable: {exc}")

    sys_descr = as_text(system_raw.get(SYS_DESCR), MAX_SYSDESCR)
    sys_oid = as_oid(system_raw.get(SYS_OBJECT_ID))
    ident = identify(sys_oid, sys_descr, ent_models)
    result.system = {
        "sysDescr": sys_descr,
        "sysObjectID": sys_oid,
        "sysName": as_text(system_raw.get(SYS_NAME)),
        "sysUpTime": as_int(system_raw.get(SYS_UPTIME), hi=2**32 - 1),
        "sysContact": as_text(system_raw.get(SYS_CONTACT)),
        "sysLocation": as_text(system_raw.get(SYS_LOCATION)),
        **ident.as_dict(),
    }
    indexes = set()
    for col in data.values():
        indexes.update(col)
    rows = []
    for idx in sorted(indexes):
        g = {name: col.get(idx) for name, col in data.items()}
        high = as_int(g.get("ifHighSpeed"), hi=2**32 - 1)
        low = as_int(g.get("ifSpeed"), hi=2**32 - 1)
        if high:
            speed = high * 1_000_000
        elif low is not None:
            speed = low
        else:
            speed = 0 if high == 0 else None
        row = {
            "ifIndex": idx,
            "ifName": _strip(as_text(g.get("ifName"))),
            "ifDescr": _strip(as_text(g.get("ifDescr"))),
            "ifAlias": _strip(as_text(g.get("ifAlias"))),
            "ifType": type_name(g.get("ifType")),
            "speed_bps": speed,
            "admin_status": status_name(g.get("ifAdminStatus")),
            "oper_status": status_name(g.get("ifOperStatus")),
            "mtu": as_int(g.get("ifMtu"), hi=2**31 - 1),
            "mac": as_mac(g.get("ifPhysAddress")),
        }
        if with_counters:
            hi = 2**64 - 1 if bits == 64 else 2**32 - 1
            row.update({
                "in_octets": as_int(g.get("ifHCInOctets"), hi=hi),
                "out_octets": as_int(g.get("ifHCOutOctets"), hi=hi),
                "in_errors": as_int(g.get("ifInErrors"), hi=2**32 - 1),
                "out_errors": as_int(g.get("ifOutErrors"), hi=2**32 - 1),
                "in_discards": as_int(g.get("ifInDiscards"), hi=2**32 - 1),
                "out_discards": as_int(g.get("ifOutDiscards"), hi=2**32 - 1),
            })
        for key in ("ifAlias", "ifName", "ifDescr"):
            raw = g.get(key)
            if raw is not None:
                try:
                    if len(bytes(raw)) > MAX_STRING:
                        s.warn(f"{key}.{idx}: {len(bytes(raw))} bytes, capped to {MAX_STRING}")
                except Exception:  # noqa: BLE001
                    pass
        rows.append(row)
    if not system_raw and not rows:
        raise SnmpError("garbage", "no usable system group and no interfaces")
    result.interfaces = rows
    result.counter_bits = bits
    result.warnings = s.warnings


async def discover(target, *, with_counters: bool = False) -> DeviceDiscovery:
    """System group + identity + ifTable/ifXTable of one device. Never raises for device faults."""
    t = SnmpTarget.coerce(target)
    result = DeviceDiscovery(name=t.name, host=t.host, port=t.port)
    start = time.monotonic()
    try:
        await _guard(t, _discover(t, result, with_counters))
        result.ok = True
    except SnmpError as exc:
        result.ok = False
        result.error, result.error_message = exc.kind, exc.message
        log.info("snmp %s: discovery failed: %s", t.name, exc)
    result.elapsed = time.monotonic() - start
    return result


# ------------------------------------------------------------------ many devices


async def prepare(targets) -> None:
    """Configure every target in the engine before the first request.

    v3: pysnmp rebuilds its lookup maps each time its target tables change; adding targets while answers
    arrive makes that quadratic. Configuring them all first makes it linear. v1/v2c use the table-less
    dispatcher, for which this is only cheap bookkeeping.
    Targets that cannot be resolved are left for poll time (where they fail alone).
    """
    for t in targets:
        try:
            await _connect(SnmpTarget.coerce(t))
        except (SnmpError, TypeError, ValueError):
            continue


async def poll_many(targets, concurrency: int = 100, op: str = "poll") -> list:
    """Poll (or ``op='discover'``) many devices, at most ``concurrency`` at a time.

    Returns one result per target, in the same order; failures are results with ``error`` set.
    """
    fn = poll_interfaces if op == "poll" else discover
    sem = asyncio.Semaphore(max(1, int(concurrency)))
    targets = [SnmpTarget.coerce(t) for t in targets]
    await prepare(targets)

    async def one(tg):
        async with sem:
            try:
                return await fn(tg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - belt and braces: never let one device stop all
                t = SnmpTarget.coerce(tg)
                cls = DevicePoll if op == "poll" else DeviceDiscovery
                return cls(name=t.name, host=t.host, port=t.port, error="error",
                           error_message=f"{type(exc).__name__}: {exc}")

    return list(await asyncio.gather(*(one(t) for t in targets)))


def _default_signals():
    """Forked from a celery worker, a shard must not run the worker's shutdown handlers when the pool ends."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def _shard_worker(args):
    targets, concurrency, op = args
    c0 = time.process_time()
    results = asyncio.run(poll_many(targets, concurrency, op))
    return results, time.process_time() - c0


def poll_many_processes(targets, processes: int = 2, concurrency: int = 100, op: str = "poll",
                        return_cpu: bool = False):
    """Split ``targets`` into ``processes`` shards, each polled by its own process and SnmpEngine.

    Returns results in target order (and, with ``return_cpu``, the CPU seconds the workers used).
    """
    targets = [SnmpTarget.coerce(t) for t in targets]
    processes = max(1, min(int(processes), len(targets) or 1))
    if processes == 1:
        res = asyncio.run(poll_many(targets, concurrency, op))
        return (res, None) if return_cpu else res
    shards = [targets[i::processes] for i in range(processes)]
    # An executor, not a Pool: if a shard process dies, the cycle fails with BrokenProcessPool instead of hanging.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                             initializer=_default_signals) as pool:
        outs = list(pool.map(_shard_worker, [(sh, concurrency, op) for sh in shards]))
    results: list = [None] * len(targets)
    cpu = 0.0
    for i, (res, used) in enumerate(outs):
        for j, r in enumerate(res):
            results[i + j * processes] = r
        cpu += used
    return (results, cpu) if return_cpu else results
