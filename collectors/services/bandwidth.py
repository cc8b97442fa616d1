"""Bandwidth figures for the console: link utilisation now, per tier and county, 95th percentiles,
time series, and the links that need expansion.

A link is measured on its A-side interface (the parent end: A's out is B's in); when the A end has
no samples, the B end with directions swapped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from collectors.models import InterfaceRollup, InterfaceSample, PollRun, RollupPeriod
from collectors.services.rollups import percentile
from inventory.models import Link

RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}
RAW_LIMIT = timedelta(days=2)  # longer ranges are drawn from hourly roll-ups: a month is 720 points, not 8,640


@dataclass
class LinkNow:
    link: Link
    time: object | None
    down_bps: float | None  # towards the B end (A's out)
    up_bps: float | None
    utilisation: float | None  # the busier direction, 0..1 of capacity

    @property
    def county(self) -> str:
        path = self.link.b_interface.device.site.region.path
        parts = [p for p in path.split("/") if p]
        return parts[1] if len(parts) > 1 else "city"


def _links(queryset=None):
    return (queryset if queryset is not None else Link.objects.all()).select_related(
        "a_interface__device__site__region", "b_interface__device__site__region")


def latest_samples(interface_ids) -> dict[int, InterfaceSample]:
    """The newest sample of each interface within the last two poll intervals."""
    recent = timezone.now() - timedelta(seconds=2 * settings.ONENET_POLL_INTERVAL_S + 60)
    latest: dict[int, InterfaceSample] = {}
    for sample in (InterfaceSample.objects.filter(interface_id__in=interface_ids, time__gte=recent)
                   .order_by("interface_id", "-time").only("interface_id", "time", "in_bps", "out_bps")):
        latest.setdefault(sample.interface_id, sample)
    return latest


def links_now(links) -> list[LinkNow]:
    links = list(_links(links))
    ids = [i for link in links for i in (link.a_interface_id, link.b_interface_id)]
    latest = latest_samples(ids)
    rows = []
    for link in links:
        down = up = when = None
        if link.a_interface_id in latest:
            sample = latest[link.a_interface_id]
            down, up, when = sample.out_bps, sample.in_bps, sample.time
        elif link.b_interface_id in latest:
            sample = latest[link.b_interface_id]
            down, up, when = sample.in_bps, sample.out_bps, sample.time
        busiest = max((v for v in (down, up) if v is not None), default=None)
        rows.append(LinkNow(link, when, down, up, None if busiest is None else busiest / link.capacity_bps))
    return rows


def summary_by(rows: list[LinkNow], key) -> list[dict]:
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    out = []
    for name, members in sorted(groups.items()):
        measured = [r.utilisation for r in members if r.utilisation is not None]
        out.append({"name": name, "links": len(members), "measured": len(measured),
                    "avg_utilisation": sum(measured) / len(measured) if measured else None,
                    "max_utilisation": max(measured) if measured else None,
                    "over_80": sum(1 for u in measured if u >= 0.8)})
    return out


def month_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def p95_this_month(link: Link) -> dict:
    """95th percentile of each direction over this month's raw samples (how bandwidth is billed)."""
    samples = InterfaceSample.objects.filter(interface_id=link.a_interface_id, time__gte=month_start())
    outs, ins = [], []
    for out_bps, in_bps in samples.values_list("out_bps", "in_bps").iterator(chunk_size=5000):
        if out_bps is not None:
            outs.append(out_bps)
        if in_bps is not None:
            ins.append(in_bps)
    down, up = percentile(outs), percentile(ins)
    busiest = max((v for v in (down, up) if v is not None), default=None)
    return {"down_bps": down, "up_bps": up, "samples": len(outs),
            "utilisation": None if busiest is None else busiest / link.capacity_bps}


def series(link: Link, range_key: str, end=None) -> dict:
    """Time series of a link for a chart: [[ms, down_bps, up_bps], ...] plus the range's 95th percentiles."""
    span = RANGES.get(range_key, RANGES["24h"])
    end = end or timezone.now()
    start = end - span
    if span <= RAW_LIMIT:
        rows = (InterfaceSample.objects.filter(interface_id=link.a_interface_id, time__gte=start, time__lte=end)
                .order_by("time").values_list("time", "out_bps", "in_bps"))
        source = "samples"
    else:
        rows = (InterfaceRollup.objects.filter(interface_id=link.a_interface_id, period=RollupPeriod.HOUR,
                                               start__gte=start, start__lte=end)
                .order_by("start").values_list("start", "out_max_bps", "in_max_bps"))
        source = "hourly maxima"
    points = [[int(t.timestamp() * 1000), d, u] for t, d, u in rows]
    return {"range": range_key if range_key in RANGES else "24h", "source": source,
            "start": int(start.timestamp() * 1000), "end": int(end.timestamp() * 1000),
            "capacity_bps": link.capacity_bps, "points": points,
            "p95_down_bps": percentile([p[1] for p in points if p[1] is not None]),
            "p95_up_bps": percentile([p[2] for p in points if p[2] is not None])}


def expansion_candidates(links, threshold: float = 0.8, days_over: int = 3, window_days: int = 7) -> list[dict]:
    """Links whose daily peak utilisation reached `threshold` on at least `days_over` of the last `window_days`."""
    links = list(_links(links))
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=window_days - 1)
    peaks = defaultdict(list)
    for interface_id, out_max, in_max in InterfaceRollup.objects.filter(
            period=RollupPeriod.DAY, start__gte=since,
            interface_id__in=[link.a_interface_id for link in links]).values_list(
            "interface_id", "out_max_bps", "in_max_bps"):
        peaks[interface_id].append(max(v or 0.0 for v in (out_max, in_max)))
    out = []
    for link in links:
        daily = [p / link.capacity_bps for p in peaks.get(link.a_interface_id, [])]
        hot = sum(1 for u in daily if u >= threshold)
        if hot >= days_over:
            out.append({"link": link, "days_over": hot, "days_measured": len(daily), "peak": max(daily)})
    return sorted(out, key=lambda r: (-r["days_over"], -r["peak"]))


def recent_runs(path: str, limit: int = 5) -> list[PollRun]:
    """The latest poll cycles a user may see: those over their subtree, and those over a part that holds it (a
    township engineer's 'collect now' polls the county). Open runs past their deadline are marked expired first,
    so a killed poller's run never shows as running."""
    from django.db.models import Q

    from collectors.services.polling import expire_overdue_runs

    expire_overdue_runs()
    runs = PollRun.objects.all()
    if path != "/":
        parts = [p for p in path.split("/") if p]
        holding = ["/", *("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts)))]
        if len(parts) == 1:  # the city root: the city level's own devices are in it
            holding.append("city")
        runs = runs.filter(Q(scope__startswith=path) | Q(scope__in=holding))
    return list(runs.order_by("-started_at")[:limit])
