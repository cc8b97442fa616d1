"""Hourly and daily roll-ups (average, maximum, 95th percentile) and raw-sample retention."""

import math
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from collectors.models import InterfaceRollup, InterfaceSample, RollupPeriod

PERIODS = {RollupPeriod.HOUR: timedelta(hours=1), RollupPeriod.DAY: timedelta(days=1)}


def percentile(values: list[float], pct: float = 95.0) -> float | None:
    """Nearest-rank percentile, the way bandwidth is billed: the value 95 % of samples do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summarise(values: list[float]) -> dict:
    clean = [v for v in values if v is not None]
    if not clean:
        return {"avg": None, "max": None, "p95": None}
    return {"avg": sum(clean) / len(clean), "max": max(clean), "p95": percentile(clean)}


def period_start(moment, period: str):
    moment = timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if period == RollupPeriod.DAY else moment


def rollup(period: str, start) -> int:
    """Summarise every interface's samples in [start, start + period); re-running replaces the rows."""
    end = start + PERIODS[period]
    values = defaultdict(lambda: ([], []))
    for interface_id, in_bps, out_bps in InterfaceSample.objects.filter(time__gte=start, time__lt=end).values_list(
            "interface_id", "in_bps", "out_bps").iterator(chunk_size=5000):
        values[interface_id][0].append(in_bps)
        values[interface_id][1].append(out_bps)
    rows = []
    for interface_id, (ins, outs) in values.items():
        i, o = summarise(ins), summarise(outs)
        rows.append(InterfaceRollup(interface_id=interface_id, period=period, start=start, samples=len(ins),
                                    in_avg_bps=i["avg"], in_max_bps=i["max"], in_p95_bps=i["p95"],
                                    out_avg_bps=o["avg"], out_max_bps=o["max"], out_p95_bps=o["p95"]))
    InterfaceRollup.objects.bulk_create(
        rows, batch_size=1000, update_conflicts=True, unique_fields=["interface", "period", "start"],
        update_fields=["samples", "in_avg_bps", "in_max_bps", "in_p95_bps", "out_avg_bps", "out_max_bps",
                       "out_p95_bps"])
    return len(rows)


def rollup_recent(now=None) -> dict:
    """The current and previous hour and day (the current ones are refreshed as samples arrive)."""
    now = now or timezone.now()
    written = 0
    for period, length in PERIODS.items():
        current = period_start(now, period)
        for start in (current - length, current):
            written += rollup(period, start)
    return {"rollups_written": written}


def prune_samples(now=None) -> dict:
    cutoff = (now or timezone.now()) - timedelta(days=settings.ONENET_SAMPLE_RETENTION_DAYS)
    deleted, _ = InterfaceSample.objects.filter(time__lt=cutoff).delete()
    return {"samples_pruned": deleted}
