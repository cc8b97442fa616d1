"""Rates from two counter samples. Pure functions, no I/O.

Rules:
- a counter that went back is a wrap: 32-bit counters wrap at 2**32, 64-bit at 2**64;
- sysUpTime going back means the device rebooted (or its uptime wrapped): no rate for that interval;
- no rate when the timestamps are equal or go back, or when a value is missing;
- a rate is never negative, and a rate above the interface speed x ``tolerance`` is absurd and discarded
  (a counter reset that looks like a wrap, a lying agent...).
"""

from __future__ import annotations

from dataclasses import dataclass

WRAP32 = 2**32
WRAP64 = 2**64
DEFAULT_TOLERANCE = 1.1  # 10 % above line rate is still believable (framing, clocks); more is not


@dataclass(frozen=True)
class Sample:
    """One reading of one counter: value, poller timestamp (seconds), device sysUpTime (ticks, 1/100 s)."""

    value: int | None
    timestamp: float
    uptime: int | None = None


def is_reboot(prev_uptime: int | None, cur_uptime: int | None) -> bool:
    """True when sysUpTime went back between two polls (reboot, or the 497-day TimeTicks wrap)."""
    if prev_uptime is None or cur_uptime is None:
        return False
    return cur_uptime < prev_uptime


def measured_interval(prev: Sample, cur: Sample, wall: float) -> float:
    """The interval between two readings, by the device's own clock when it can be trusted.

    sysUpTime is read in the same request as the counters, so its delta is the interval the counters
    cover, free of the poller's own queueing delays; the wall-clock delta is kept when uptime is missing
    or disagrees with it by more than a quarter (a lying or rebooted agent).
    """
    if prev.uptime is None or cur.uptime is None:
        return wall
    ticks = (cur.uptime - prev.uptime) / 100.0
    if ticks > 0 and abs(ticks - wall) <= max(1.0, 0.25 * wall):
        return ticks
    return wall


def counter_delta(prev: int | None, cur: int | None, bits: int = 64) -> int | None:
    """Increase of a counter between two readings, handling one wrap. None when it cannot be known."""
    if prev is None or cur is None or bits not in (32, 64):
        return None
    modulus = WRAP32 if bits == 32 else WRAP64
    if not (0 <= prev < modulus and 0 <= cur < modulus):
        return None
    if cur >= prev:
        return cur - prev
    return cur + modulus - prev


def counter_rate(
    prev: Sample,
    cur: Sample,
    *,
    bits: int = 64,
    max_rate: float | None = None,
) -> float | None:
    """Units per second between two samples, or None (reboot, bad time, missing value, absurd)."""
    if prev.timestamp is None or cur.timestamp is None:
        return None
    dt = cur.timestamp - prev.timestamp
    if not dt > 0:
        return None
    if is_reboot(prev.uptime, cur.uptime):
        return None
    dt = measured_interval(prev, cur, dt)
    delta = counter_delta(prev.value, cur.value, bits)
    if delta is None:
        return None
    if bits == 64 and cur.value is not None and prev.value is not None and cur.value < prev.value:
        # a genuine 64-bit wrap takes years even at 100 Gbit/s; without a speed bound this is a reset
        if max_rate is None:
            return None
    rate = delta / dt
    if rate < 0:
        return None
    if max_rate is not None and rate > max_rate:
        return None
    return rate


def octet_rate_bps(
    prev: Sample,
    cur: Sample,
    *,
    bits: int = 64,
    speed_bps: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> float | None:
    """Bits per second from two octet-counter samples, bounded by ``speed_bps`` x ``tolerance``."""
    max_octets = None
    if speed_bps and speed_bps > 0:
        max_octets = speed_bps * tolerance / 8.0
    rate = counter_rate(prev, cur, bits=bits, max_rate=max_octets)
    return None if rate is None else rate * 8.0


def utilisation(bps: float | None, speed_bps: int | None) -> float | None:
    """Fraction of line rate in [0, 1] (clipped), or None when unknown."""
    if bps is None or not speed_bps or speed_bps <= 0:
        return None
    return max(0.0, min(1.0, bps / speed_bps))


def interface_rates(prev: dict, cur: dict, *, speed_bps: int | None = None) -> dict:
    """Convenience for the poller: rates for one interface from two poll rows.

    ``prev``/``cur`` are dicts with ``timestamp``, ``uptime``, ``counter_bits`` and the counters
    ``in_octets``, ``out_octets``, ``in_errors``, ``out_errors``, ``in_discards``, ``out_discards``.
    Returns ``in_bps``, ``out_bps`` (bits/s) and ``*_per_s`` for errors/discards, None where unknown.
    If the counter width changed between the samples (32 -> 64 fallback) no octet rate is given.
    """
    out: dict = {}
    bits_prev = prev.get("counter_bits", 64)
    bits_cur = cur.get("counter_bits", 64)
    for key in ("in_octets", "out_octets"):
        name = key.replace("_octets", "_bps")
        if bits_prev != bits_cur:
            out[name] = None
            continue
        out[name] = octet_rate_bps(
            Sample(prev.get(key), prev.get("timestamp"), prev.get("uptime")),
            Sample(cur.get(key), cur.get("timestamp"), cur.get("uptime")),
            bits=bits_cur,
            speed_bps=speed_bps,
        )
    for key in ("in_errors", "out_errors", "in_discards", "out_discards"):
        # error/discard counters are 32-bit Counter32 in IF-MIB
        # bound: one error per minimum-size frame (84 bytes on the wire) at line rate, x tolerance
        max_rate = (speed_bps / (84 * 8)) * DEFAULT_TOLERANCE if speed_bps and speed_bps > 0 else None
        out[f"{key}_per_s"] = counter_rate(
            Sample(prev.get(key), prev.get("timestamp"), prev.get("uptime")),
            Sample(cur.get(key), cur.get("timestamp"), cur.get("uptime")),
            bits=32,
            max_rate=max_rate,
        )
    return out
