"""Chart data of one interface (traffic, errors, discards) and the default range of every time-series chart.

The default range fits the data there is: a new install with an hour of samples opens on that hour, not on a
sliver of 24 hours (the usual default once a day of data exists).
"""

from __future__ import annotations

from django.db.models import Max
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collectors.models import InterfaceSample
from collectors.services.bandwidth import RANGES, RAW_LIMIT, utc_offsets
from collectors.services.rollups import percentile
from inventory.models import Interface

DEFAULT_RANGE = "24h"
RANGE_LABELS = {"1h": _("1 hour"), "6h": _("6 hours"), "24h": _("24 hours"), "7d": _("7 days"),
                "30d": _("30 days")}
COLUMNS = ("in_bps", "out_bps", "in_errors_per_s", "out_errors_per_s", "in_discards_per_s", "out_discards_per_s")


def range_choices() -> list[tuple[str, str]]:
    """(key, translated label) of each range the picker offers, shortest first."""
    return [(key, RANGE_LABELS[key]) for key in RANGES]


def first_sample_time(interface_ids):
    """The oldest sample's time over these interfaces (one index look-up each), or None."""
    times = [InterfaceSample.objects.filter(interface_id=i).order_by("time").values_list("time", flat=True).first()
             for i in interface_ids]
    return min((t for t in times if t is not None), default=None)


def default_range(interface_ids, now=None) -> str:
    """The shortest range that holds every sample since the first one, at most DEFAULT_RANGE."""
    first = first_sample_time(interface_ids)
    if first is None:
        return DEFAULT_RANGE
    age = (now or timezone.now()) - first
    for key, span in RANGES.items():
        if span >= age or key == DEFAULT_RANGE:
            return key
    return DEFAULT_RANGE


def chosen_range(requested: str | None, interface_ids) -> str:
    """The range a chart page opens on: the one asked for, when it is a range; otherwise the default."""
    return requested if requested in RANGES else default_range(interface_ids)


def interface_series(interface: Interface, range_key: str, end=None) -> dict:
    """[[ms, in_bps, out_bps, in_errors/s, out_errors/s, in_discards/s, out_discards/s], ...] over the range: the
    raw samples up to two days, hourly maxima beyond; with the speed, the 95th percentiles of each direction and the
    configured time zone's UTC offsets (as bandwidth.series)."""
    key = range_key if range_key in RANGES else DEFAULT_RANGE
    end = end or timezone.now()
    start = end - RANGES[key]
    samples = InterfaceSample.objects.filter(interface=interface, time__gte=start, time__lte=end)
    if RANGES[key] <= RAW_LIMIT:
        rows = samples.order_by("time").values_list("time", *COLUMNS)
        source = "samples"
    else:
        rows = samples.annotate(hour=TruncHour("time")).values("hour").annotate(
            **{f"max_{c}": Max(c) for c in COLUMNS}).order_by("hour").values_list(
            "hour", *(f"max_{c}" for c in COLUMNS))
        source = "hourly maxima"
    points = [[int(t.timestamp() * 1000), *values] for t, *values in rows]
    return {"range": key, "source": source, "start": int(start.timestamp() * 1000),
            "end": int(end.timestamp() * 1000), "time_zone": timezone.get_current_timezone_name(),
            "utc_offsets": utc_offsets(start, end), "speed_bps": interface.speed_bps or None, "points": points,
            "p95_in_bps": percentile([p[1] for p in points if p[1] is not None]),
            "p95_out_bps": percentile([p[2] for p in points if p[2] is not None])}
