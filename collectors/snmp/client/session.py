"""pysnmp transports, one dispatcher/engine per process and loop, and bounded walks of one device."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import time
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

from .types import MAX_IFINDEX, MAX_ROWS, SnmpError, SnmpTarget
from .values import _END_TYPES, _oid_str

log = logging.getLogger("onenet.collectors.snmp")

# ------------------------------------------------------------------ engine / connections

_ENGINES: dict[tuple, SnmpEngine] = {}  # (pid, id(loop)) -> v3 engine; one per process and loop
_DISPATCHERS: dict[tuple, SnmpDispatcher] = {}  # (pid, id(loop)) -> v1/v2c dispatcher
_CONNS: dict[tuple, tuple] = {}  # (loop key, target key) -> connection


SOCKET_BUFFER = 4 << 20  # answers pile up while we decode: a small receive buffer drops them (= timeouts)


def _unsendable(address) -> str | None:
    """Why a datagram cannot even be handed to the socket, or None.

    asyncio closes a datagram transport for good on any error of sendto() that is not an OSError (port 70000:
    OverflowError), and the transport is shared by every device of the process: such an address is refused here.
    """
    try:
        host, port = address[0], address[1]
    except (TypeError, IndexError):
        return f"no address ({address!r})"
    if not isinstance(port, int) or not 0 <= port <= 65535:
        return f"port {port!r} is outside 0-65535"
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return f"{host!r} is not an IPv4 address"
    return None


class _BigBufferUdp(udp.UdpAsyncioTransport):
    """pysnmp's UDP client transport with large socket buffers (capped by net.core.rmem_max), shared by every
    device of the process, that survives a send error on one target: the error is kept for that target's
    session (``send_errors``), never raised into pysnmp (whose retry timer would die of it) nor allowed to close
    the socket."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.send_errors: dict[tuple, str] = {}  # (host, port) -> why the last send there failed
        self._sending: tuple | None = None

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
                except OSError:
                    pass
        queued, self._writeQ = self._writeQ, []
        super().connection_made(transport)
        for message, address in queued:  # sent here, so that a bad one fails alone too
            self.send_message(message, address)

    def send_message(self, outgoingMessage, transportAddress):  # noqa: N803 - pysnmp's names
        key = _address_key(transportAddress)
        problem = _unsendable(transportAddress)
        if problem is None and self.transport is not None:
            self._sending = key
            try:
                # An OSError (EINVAL, EACCES, ENETUNREACH...) comes back through error_received() at once.
                self.transport.sendto(outgoingMessage, self.normalize_address(transportAddress))
            except Exception as exc:  # noqa: BLE001 - one target's problem, not the transport's
                problem = f"{type(exc).__name__}: {exc}"
            finally:
                self._sending = None
        elif problem is None:
            self._writeQ.append((outgoingMessage, transportAddress))  # not connected yet: connection_made sends
        if problem is not None:
            self._record(key, problem)

    def error_received(self, exc):
        if self._sending is not None:
            self._record(self._sending, str(exc))
        else:
            log.debug("snmp transport: %s", exc)

    def _record(self, key: tuple, problem: str):
        if len(self.send_errors) > 10000:
            self.send_errors.clear()
        self.send_errors[key] = problem


def _address_key(address) -> tuple:
    try:
        return (str(address[0]), address[1])
    except (TypeError, IndexError):
        return ("?", 0)


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
    if not 0 < t.port < 65536:
        # Never sent: the v1/v2c socket would raise (OverflowError, EINVAL), and pysnmp's v3 target silently
        # takes port 70000 as 70000 - 65536, another device's.
        raise SnmpError("error", f"cannot send to {t.host}:{t.port}: port {t.port} is outside 1-65535; correct "
                                 "the device's SNMP port")
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
        self._raise_send_error()
        try:
            err_ind, err_status, err_index, var_binds = await asyncio.wait_for(fut, self._request_budget())
        except TimeoutError:
            err_ind = errind.requestTimedOut
        if err_ind:
            self._raise_send_error()  # a send queued before the socket was ready fails there, later
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

    def _raise_send_error(self):
        """The shared transport could not send to this device (its address or port is unusable): fail it now,
        with the reason, rather than let it time out."""
        owner = self.conn[1]
        address = (self.t.host, self.t.port)
        if self.conn[0] == "v1":
            address = tuple(getattr(self.conn[3], "transport_address", address))
        try:
            transport = owner.transport_dispatcher.get_transport(udp.DOMAIN_NAME)
        except Exception:  # noqa: BLE001 - no UDP transport registered: nothing was kept
            return
        errors = getattr(transport, "send_errors", None)
        problem = errors.pop(_address_key(address), None) if errors else None
        if problem is not None:
            raise SnmpError("error", f"cannot send to {self.t.host}:{self.t.port}: {problem}; correct the "
                                     "device's SNMP address or port")

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
        self, columns: dict[str, str], scalars: list[str] | None = None, max_rows: int = MAX_ROWS,
        stamp: str | None = None,
    ) -> tuple[dict[str, dict[int, Any]], dict[str, Any]]:
        """Walk several table columns at once with GETBULK (GETNEXT for v1).

        Returns ({column name: {ifIndex: value}}, {scalar oid: value}). A column stops at its end,
        at a non-increasing OID, after ``max_rows`` rows; a timeout/auth error on the first request
        propagates, on later ones the walk keeps what it has and records a warning.

        With ``stamp`` (a scalar such as sysUpTime.0), every GETBULK carries it, and ``self.row_stamps``
        maps each ifIndex of the first column to the stamp of the response that carried it: a table
        answered in several requests then gets each row's own moment, not the first request's.
        """
        self.row_stamps: dict[int, Any] = {}
        first_column = next(iter(columns), None)
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
                response_stamp = None
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
                asked = list(scalars) if first else []
                if stamp and stamp not in asked:  # every response, the first included, carries its stamp
                    asked.append(stamp)
                # non-repeaters have GETNEXT semantics: ask for the parent of x.0 to get x.0 itself
                req_scalars = [o[:-2] if o.endswith(".0") else o for o in asked]
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
                response_stamp = None
                for (name, value) in vbs[:nonrep]:
                    if isinstance(value, _END_TYPES):
                        continue
                    if _oid_str(name) in scalars:
                        scalar_vals.setdefault(_oid_str(name), value)
                    if _oid_str(name) == stamp:
                        response_stamp = value
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
                if col == first_column and response_stamp is not None:
                    self.row_stamps[idx] = response_stamp
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


