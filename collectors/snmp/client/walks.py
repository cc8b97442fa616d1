"""Polls and discoveries of one device, and of many at once in several processes."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import math
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from ..identify import identify, vendor_mib_oids
from .session import _connect, _guard, _session
from .types import (
    COLUMNS,
    DISCOVER_COLUMNS,
    MAX_STRING,
    MAX_SYSDESCR,
    POLL_COLUMNS,
    POLL_COLUMNS_32,
    SYS_CONTACT,
    SYS_DESCR,
    SYS_LOCATION,
    SYS_NAME,
    SYS_OBJECT_ID,
    SYS_UPTIME,
    DeviceDiscovery,
    DevicePoll,
    InterfaceCounters,
    SnmpError,
    SnmpTarget,
)
from .values import _strip, as_int, as_mac, as_oid, as_text, status_name, type_name

log = logging.getLogger("onenet.collectors.snmp")

# ------------------------------------------------------------------ poll


async def _fill_32bit_octets(s, data: dict, stamps: dict | None = None) -> dict[int, int]:
    """Each interface's counter width, after giving the 32-bit octet counters to those without 64-bit ones.

    The 64-bit ifHC* counters are preferred; an interface with neither ifHCInOctets nor ifHCOutOctets (a Catalyst's
    management or stack port, every port of an SNMPv1 agent) gets ifInOctets/ifOutOctets in their place and width
    32, so its rates wrap at 2**32. Per interface, not per device: such a port must not hide the others' 64-bit
    counters, nor lose its own traffic because the others have 64-bit ones. ``stamps`` (ifIndex -> sysUpTime of
    the response that carried the row) gets the stamps of the rows the 32-bit walk filled.
    """
    wide = set(data["ifHCInOctets"]) | set(data["ifHCOutOctets"])
    known = set().union(*data.values())
    if wide and known <= wide:
        return dict.fromkeys(wide, 64)
    narrow, _ = await s.walk_columns({c: COLUMNS[c] for c in POLL_COLUMNS_32},
                                     stamp=SYS_UPTIME if stamps is not None else None)
    filled = (set(narrow["ifInOctets"]) | set(narrow["ifOutOctets"])) - wide
    for idx in filled:
        for hc, col in (("ifHCInOctets", "ifInOctets"), ("ifHCOutOctets", "ifOutOctets")):
            if idx in narrow[col]:
                data[hc][idx] = narrow[col][idx]
        if stamps is not None and idx in s.row_stamps:
            stamps[idx] = s.row_stamps[idx]
    return {**dict.fromkeys(wide, 64), **dict.fromkeys(filled, 32)}


def _device_width(widths: dict[int, int]) -> int:
    """A device's counter width: 32 when no interface has 64-bit counters, else 64."""
    return 32 if widths and all(bits == 32 for bits in widths.values()) else 64


async def _poll(target: SnmpTarget, result: DevicePoll):
    s = await _session(target)
    cols = {c: COLUMNS[c] for c in POLL_COLUMNS}
    data, scalars = await s.walk_columns(cols, scalars=[SYS_UPTIME], stamp=SYS_UPTIME)
    stamps = dict(s.row_stamps)
    widths = await _fill_32bit_octets(s, data, stamps)
    result.timestamp = time.time()
    uptime_raw = scalars.get(SYS_UPTIME)
    if uptime_raw is None and target.version == "1":
        uptime_raw = (await s.get([SYS_UPTIME])).get(SYS_UPTIME)
    result.sys_uptime = as_int(uptime_raw, hi=2**32 - 1)
    if uptime_raw is not None and result.sys_uptime is None:
        s.warn(f"sysUpTime has a wrong value {type(uptime_raw).__name__}")
    indexes = set()
    for col in data.values():
        indexes.update(col)
    for idx in sorted(indexes):
        bits = widths.get(idx, 64)
        hi = 2**64 - 1 if bits == 64 else 2**32 - 1
        row = InterfaceCounters(ifIndex=idx, counter_bits=bits, uptime=as_int(stamps.get(idx), hi=2**32 - 1))
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
    result.counter_bits = _device_width(widths)
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
    widths = await _fill_32bit_octets(s, data) if with_counters else {}
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
    vendor_mib = {}
    if wanted := vendor_mib_oids(sys_oid, sys_descr, ent_models):  # an OEM build's sysDescr names no version
        try:
            answered = await s.get(list(wanted.values()))
        except SnmpError as exc:
            if exc.kind == "auth":
                raise
            s.warn(f"vendor MIB not readable: {exc}")
            answered = {}
        vendor_mib = {field: as_text(answered.get(oid), 128) for field, oid in wanted.items()}
    ident = identify(sys_oid, sys_descr, ent_models, vendor_mib)
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
            bits = widths.get(idx, 64)
            hi = 2**64 - 1 if bits == 64 else 2**32 - 1
            row.update({
                "counter_bits": bits,
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
    result.counter_bits = _device_width(widths)
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
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent_pid: int):
    """A shard must not outlive the poll that forked it: killed with SIGKILL, the poll cannot stop it itself."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the parent's own clean-up still applies
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above: nobody will read our results
        os._exit(1)


def _shard_init(parent_pid: int):
    _default_signals()
    _die_with_parent(parent_pid)


def _shard_worker(args):
    targets, concurrency, op = args
    c0 = time.process_time()
    results = asyncio.run(poll_many(targets, concurrency, op))
    return results, time.process_time() - c0


def shard_timeout(targets: list[SnmpTarget], processes: int, concurrency: int) -> float:
    """How long the shards may take at most: their devices in waves of `concurrency`, each bounded by its
    deadline and the client's guard, plus process start-up. Past it something is wrong; the shards are stopped."""
    per_shard = math.ceil(len(targets) / max(1, processes))
    waves = max(1, math.ceil(per_shard / max(1, int(concurrency))))
    return waves * (max((t.deadline for t in targets), default=0.0) + 2.0) + 60.0


def _stop_shards(pool: ProcessPoolExecutor) -> None:
    """Stop the shard processes now (the executor's own shutdown would wait for them to finish their polls)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(10)


def poll_many_processes(targets, processes: int = 2, concurrency: int = 100, op: str = "poll",
                        return_cpu: bool = False, timeout: float | None = None):
    """Split ``targets`` into ``processes`` shards, each polled by its own process and SnmpEngine.

    Returns results in target order (and, with ``return_cpu``, the CPU seconds the workers used).
    The shards never outlive the call: they die with this process (even killed with SIGKILL), and an exception
    here (a shard that died, ``timeout`` seconds passed, KeyboardInterrupt, SystemExit) stops them before it
    propagates. ``timeout`` defaults to :func:`shard_timeout`.
    """
    targets = [SnmpTarget.coerce(t) for t in targets]
    processes = max(1, min(int(processes), len(targets) or 1))
    if processes == 1:
        res = asyncio.run(poll_many(targets, concurrency, op))
        return (res, None) if return_cpu else res
    shards = [targets[i::processes] for i in range(processes)]
    if timeout is None:
        timeout = shard_timeout(targets, processes, concurrency)
    ends_at = time.monotonic() + timeout
    # An executor, not a Pool: if a shard process dies, the cycle fails with BrokenProcessPool instead of hanging.
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_shard_init, initargs=(os.getpid(),))
    try:
        futures = [pool.submit(_shard_worker, (sh, concurrency, op)) for sh in shards]
        outs = []
        for future in futures:
            try:
                outs.append(future.result(timeout=max(0.0, ends_at - time.monotonic())))
            except TimeoutError:
                raise TimeoutError(f"the SNMP shard processes did not finish within {timeout:.0f} s; "
                                   "they were stopped") from None
    except BaseException:
        _stop_shards(pool)
        raise
    pool.shutdown(wait=True)
    results: list = [None] * len(targets)
    cpu = 0.0
    for i, (res, used) in enumerate(outs):
        for j, r in enumerate(res):
            results[i + j * processes] = r
        cpu += used
    return (results, cpu) if return_cpu else results
