"""The lab's traffic profile: the rate of every link direction as a function of time, and its exact integral.

rate_bps(link, direction, t) = capacity × scale × (base + (peak − base) × shape(local hour + shift))

- `shape` is piecewise linear over the local day (Asia/Shanghai, fixed UTC+8): low at night, a ramp 08–09, high
  in office hours 09–12 and 14–17:30, a lunch dip, an evening tail.  Piecewise linear means its integral is
  exact and cheap (trapezoids), so counters are the exact integral of the rate.
- `direction` is "ab" (from the link's a side to its b side) or "ba".  The download direction carries the full
  profile (scale 0.85..1 per link), the upload direction about 30-60 % of it; each link's day is also shifted
  by up to ±20 minutes (`link_params`), so links of one tier do not show identical counters.  Download is a→b
  (upstream to downstream) except on internet links and links towards the egress, where the traffic comes from
  the internet side (b→a).
- `octets(link, direction, since, t)` is the byte count a counter started at `since` (the device's boot) shows
  at `t`; a poller reading it at t0 and t1 gets `mean_rate_bps(link, direction, t0, t1)` × (t1 − t0) / 8.

A "link" is anything with capacity_bps, base_utilisation, peak_utilisation, tier, a_device, b_device (the
topology's Link); `background(...)` makes one for interfaces that have no link (PC ports, idle ports).
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass

UTC_OFFSET = 8 * 3600  # Asia/Shanghai, no DST
DAY = 86400.0

# (local hour, shape value 0..1); first and last value equal so the day wraps continuously.
SHAPE = [
    (0.0, 0.06), (6.0, 0.03), (7.5, 0.06), (8.0, 0.15), (9.0, 0.90), (10.0, 1.00), (11.5, 0.95),
    (12.0, 0.45), (13.5, 0.40), (14.0, 0.90), (15.5, 1.00), (17.5, 0.85), (18.5, 0.35), (20.0, 0.25),
    (22.0, 0.12), (24.0, 0.06),
]
UPLOAD_FACTOR = 0.45  # the lighter direction carries this share of the profile

_X = [h * 3600.0 for h, _ in SHAPE]  # seconds into the local day
_Y = [v for _, v in SHAPE]
_CUM = [0.0]  # ∫ shape from local midnight to each breakpoint, in seconds
for _i in range(1, len(SHAPE)):
    _CUM.append(_CUM[-1] + (_X[_i] - _X[_i - 1]) * (_Y[_i] + _Y[_i - 1]) / 2)
DAY_INTEGRAL = _CUM[-1]


def shape(t: float) -> float:
    """The profile's shape (0..1) at unix time t."""
    sec = (t + UTC_OFFSET) % DAY
    i = bisect_right(_X, sec) - 1
    if i >= len(_X) - 1:
        return _Y[-1]
    x0, y0 = _X[i], _Y[i]
    return y0 + (_Y[i + 1] - y0) * (sec - x0) / (_X[i + 1] - x0)


def shape_integral(t: float) -> float:
    """∫ shape from the epoch's local midnight to t, in seconds (a monotonic function of t)."""
    days, sec = divmod(t + UTC_OFFSET, DAY)
    i = bisect_right(_X, sec) - 1
    if i >= len(_X) - 1:
        return (days + 1) * DAY_INTEGRAL
    x0, y0 = _X[i], _Y[i]
    y = y0 + (_Y[i + 1] - y0) * (sec - x0) / (_X[i + 1] - x0)
    return days * DAY_INTEGRAL + _CUM[i] + (sec - x0) * (y0 + y) / 2


def heavy_direction(link) -> str:
    """The download direction of a link: "ab" or "ba"."""
    if link.tier == "internet" or "egress" in (link.b_device or ""):
        return "ba"
    return "ab"


_PARAMS: dict[int, tuple] = {}


def link_params(link) -> tuple[float, float, float]:
    """(download scale 0.85..1, upload scale, time shift in seconds) of a link, deterministic by its ends.

    Links of the same tier would otherwise show identical counters; the scale never lifts a link above its
    peak_utilisation, and the shift (up to ±20 minutes) moves its day a little.
    """
    cached = _PARAMS.get(id(link))
    if cached is not None and cached[0] is link:
        return cached[1]
    key = f"{link.a_device}:{getattr(link, 'a_interface', '')}-{link.b_device}:{getattr(link, 'b_interface', '')}"
    scale = 0.85 + 0.15 * _unit(key, "scale")
    upload = UPLOAD_FACTOR * (0.7 + 0.6 * _unit(key, "upload"))
    shift = (_unit(key, "shift") - 0.5) * 2400.0
    params = (scale, scale * upload, shift)
    if len(_PARAMS) > 200_000:
        _PARAMS.clear()
    _PARAMS[id(link)] = (link, params)
    return params


def _factor(link, direction: str) -> tuple[float, float]:
    """(scale, time shift) of a link direction."""
    direction = _normalise(direction)
    heavy, light, shift = link_params(link)
    return (heavy if direction == heavy_direction(link) else light), shift


def _normalise(direction: str) -> str:
    if direction in ("ab", "a->b", "a>b"):
        return "ab"
    if direction in ("ba", "b->a", "b>a"):
        return "ba"
    raise ValueError(f"direction must be 'ab' or 'ba', not {direction!r}")


def rate_bps(link, direction: str, t: float) -> float:
    """Bits per second on `link` in `direction` at unix time t."""
    base, peak = link.base_utilisation, link.peak_utilisation
    scale, shift = _factor(link, direction)
    return link.capacity_bps * scale * (base + (peak - base) * shape(t + shift))


def _bits(link, direction: str, t0: float, t1: float) -> float:
    base, peak = link.base_utilisation, link.peak_utilisation
    scale, shift = _factor(link, direction)
    return link.capacity_bps * scale * (
        base * (t1 - t0) + (peak - base) * (shape_integral(t1 + shift) - shape_integral(t0 + shift)))


def mean_rate_bps(link, direction: str, t0: float, t1: float) -> float:
    """The mean of rate_bps over [t0, t1] (the rate a poller computes from two counter readings)."""
    if t1 == t0:
        return rate_bps(link, direction, t0)
    return _bits(link, direction, t0, t1) / (t1 - t0)


def octets(link, direction: str, since: float, t: float) -> int:
    """Bytes sent in `direction` from `since` to `t` (an unwrapped counter started at `since`)."""
    if t <= since:
        return 0
    return int(_bits(link, direction, since, t) / 8)


@dataclass(frozen=True)
class Background:
    """The traffic of an interface with no link: an office PC port, or idle chatter."""

    capacity_bps: int
    base_utilisation: float
    peak_utilisation: float
    a_device: str = ""
    b_device: str = ""
    tier: str = "background"


def background(key: str, speed_bps: int, busy: bool = False) -> Background:
    """A small deterministic background rate for an interface (`key` names it, e.g. "device:ifname")."""
    capacity = min(speed_bps or 100_000_000, 1_000_000_000)
    jitter = 0.5 + _unit(key, "bg")
    if busy:  # a PC behind an access port: a few Mbit/s at peak
        return Background(capacity, 0.0002 * jitter, 0.006 * jitter, a_device=key)
    return Background(capacity, 0.00002 * jitter, 0.0001 * jitter, a_device=key)


def _unit(key: str, salt: str) -> float:
    """A deterministic number in [0, 1) for a key."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def slow_count_rate(key: str, kind: str, max_per_hour: float = 12.0) -> float:
    """Events per second for a slowly growing counter (errors, discards); many interfaces get none."""
    u = _unit(key, kind)
    if u < 0.6:
        return 0.0
    return (u - 0.6) / 0.4 * max_per_hour / 3600.0


def count(rate_per_s: float, since: float, t: float) -> int:
    """A counter growing at a constant rate since `since`."""
    if t <= since or rate_per_s <= 0:
        return 0
    return int(math.floor((t - since) * rate_per_s))
