"""Bandwidth figures for the console: link utilisation now, per tier and county, 95th percentiles,
time series, and the links that need expansion.

Directions are the city's (DESIGN "The console"): "down" is into the city (from the internet, from the province) and
towards the village, "up" the reverse, whichever end the inventory writes first (inventory.models.downstream_end). A
link is measured on its downstream end, which receives "down" (the city's own end of the ISP's and the province's
links, whose far ends are not the city's to poll); when that end has no samples, on the other end, which sends it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from collectors.models import InterfaceRollup, InterfaceSample, PollRun, RollupPeriod
from collectors.services.link_facts import LinkFacts, link_facts
from collectors.services.rollups import percentile
from inventory.models import Link
from inventory.services.coverage import answering_since

RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}
RAW_LIMIT = timedelta(days=2)  # longer ranges are drawn from hourly roll-ups: a month is 720 points, not 8,640


@dataclass
class LinkNow:
    link: LinkFacts
    time: object | None
    down_bps: float | None  # into the city, towards the village
    up_bps: float | None
    utilisation: float | None  # the busier direction, 0..1 of capacity

    @property
    def county(self) -> str:
        path = self.link.downstream_interface.device.site.region.path
        parts = [p for p in path.split("/") if p]
        return parts[1] if len(parts) > 1 else "city"


def measured_ends(link: Link) -> list[tuple[int, bool]]:
    """(interface id, whether its "in" is down) of the ends a link is measured on, best first: the downstream end,
    which receives "down", then the upstream end, which sends it. `link` needs both ends' device and region."""
    if link.downstream_end == "a":
        return [(link.a_interface_id, True), (link.b_interface_id, False)]
    return [(link.b_interface_id, True), (link.a_interface_id, False)]


def down_up(in_value, out_value, in_is_down: bool) -> tuple:
    """An interface's (in, out) as the link's (down, up)."""
    return (in_value, out_value) if in_is_down else (out_value, in_value)


def latest_samples(interface_ids) -> dict[int, InterfaceSample]:
    """The newest sample of each interface that is still "now" (as coverage's "answering now")."""
    recent = answering_since()
    latest: dict[int, InterfaceSample] = {}
    for sample in (InterfaceSample.objects.filter(interface_id__in=interface_ids, time__gte=recent)
                   .order_by("interface_id", "-time").only("interface_id", "time", "in_bps", "out_bps")):
        latest.setdefault(sample.interface_id, sample)
    return latest


def links_now(links) -> list[LinkNow]:
    links = link_facts(links)
    ends = {link.pk: measured_ends(link) for link in links}
    latest = latest_samples([interface_id for pairs in ends.values() for interface_id, _ in pairs])
    rows = []
    for link in links:
        down = up = when = None
        sampled = next(((latest[i], in_is_down) for i, in_is_down in ends[link.pk] if i in latest), None)
        if sampled is not None:
            sample, in_is_down = sampled
            (down, up), when = down_up(sample.in_bps, sample.out_bps, in_is_down), sample.time
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


def _first_measured(link: Link, rows_of) -> tuple[list, bool]:
    """The rows `rows_of(interface_id)` gives for the first of the link's measured ends that has any, with whether
    that end's "in" is down ([] and True when neither has)."""
    for interface_id, in_is_down in measured_ends(link):
        rows = list(rows_of(interface_id))
        if rows:
            return rows, in_is_down
    return [], True


def p95_this_month(link: Link) -> dict:
    """95th percentile of each direction over this month's raw samples (how bandwidth is billed)."""
    rows, in_is_down = _first_measured(link, lambda interface_id: InterfaceSample.objects.filter(
        interface_id=interface_id, time__gte=month_start()).values_list("in_bps", "out_bps").iterator(
        chunk_size=5000))
    downs, ups = [], []
    for in_bps, out_bps in rows:
        down, up = down_up(in_bps, out_bps, in_is_down)
        if down is not None:
            downs.append(down)
        if up is not None:
            ups.append(up)
    down, up = percentile(downs), percentile(ups)
    busiest = max((v for v in (down, up) if v is not None), default=None)
    return {"down_bps": down, "up_bps": up, "samples": len(downs),
            "utilisation": None if busiest is None else busiest / link.capacity_bps}


def utc_offsets(start, end) -> list[list[int]]:
    """The configured zone's UTC offset over [start, end] as [[from ms, offset ms], ...]: one pair, or more when a
    daylight saving change falls inside. A chart draws each point at its wall clock in that zone, whatever the
    browser's own zone."""
    zone = timezone.get_current_timezone()

    def offset(t) -> int:
        return int(t.astimezone(zone).utcoffset().total_seconds() * 1000)

    changes = [[int(start.timestamp() * 1000), offset(start)]]
    step, t = timedelta(hours=1), start  # zones change their offset at most once in a few months
    while t < end:
        following = min(t + step, end)
        if offset(following) != changes[-1][1]:
            low, high = t, following  # the change is in (low, high]: find its second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append([int(high.timestamp() * 1000), offset(high)])
        t = following
    return changes


def series(link: Link, range_key: str, end=None) -> dict:
    """Time series of a link for a chart: [[ms, down_bps, up_bps], ...], the range's 95th percentiles, and the
    configured time zone with its UTC offsets over the range (`utc_offsets`), in which the chart shows the times.
    `link` needs both ends' device and region."""
    span = RANGES.get(range_key, RANGES["24h"])
    end = end or timezone.now()
    start = end - span
    if span <= RAW_LIMIT:
        rows, in_is_down = _first_measured(link, lambda interface_id: InterfaceSample.objects.filter(
            interface_id=interface_id, time__gte=start, time__lte=end).order_by("time").values_list(
            "time", "in_bps", "out_bps"))
        source = "samples"
    else:
        rows, in_is_down = _first_measured(link, lambda interface_id: InterfaceRollup.objects.filter(
            interface_id=interface_id, period=RollupPeriod.HOUR, start__gte=start, start__lte=end).order_by(
            "start").values_list("start", "in_max_bps", "out_max_bps"))
        source = "hourly maxima"
    points = [[int(t.timestamp() * 1000), *down_up(i, o, in_is_down)] for t, i, o in rows]
    return {"range": range_key if range_key in RANGES else "24h", "source": source,
            "start": int(start.timestamp() * 1000), "end": int(end.timestamp() * 1000),
            "time_zone": timezone.get_current_timezone_name(), "utc_offsets": utc_offsets(start, end),
            "capacity_bps": link.capacity_bps, "points": points,
            "p95_down_bps": percentile([p[1] for p in points if p[1] is not None]),
            "p95_up_bps": percentile([p[2] for p in points if p[2] is not None])}


def expansion_candidates(links, threshold: float = 0.8, days_over: int = 3, window_days: int = 7) -> list[dict]:
    """Links whose daily peak utilisation reached `threshold` on at least `days_over` of the last `window_days`."""
    links = link_facts(links)
    ends = {link.pk: [interface_id for interface_id, _ in measured_ends(link)] for link in links}
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=window_days - 1)
    peaks = defaultdict(list)
    for interface_id, out_max, in_max in InterfaceRollup.objects.filter(
            period=RollupPeriod.DAY, start__gte=since,
            interface_id__in=[i for pair in ends.values() for i in pair]).values_list(
            "interface_id", "out_max_bps", "in_max_bps"):
        peaks[interface_id].append(max(v or 0.0 for v in (out_max, in_max)))
    out = []
    for link in links:
        measured = next((peaks[i] for i in ends[link.pk] if peaks.get(i)), [])
        daily = [p / link.capacity_bps for p in measured]
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
