"""Availability, SLA-style: the share of a device's polls it answered, over the last day, week and month.

Each poll cycle records one outcome per device it polled (`record_polls`) into hourly buckets (DeviceAvailability).
A poll counts once per poll slot (the ONENET_POLL_INTERVAL_S interval it fell in): a retried cycle, or a "poll now"
in the same slot, never counts twice; an answer after a failed try in the same slot makes the slot answered. The
poller holds a lock per county (collectors.models.PollLock), so one device's buckets have one writer at a time.

Figures are read by name in queries elsewhere too (inventory's device list and coverage: `availability__...`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from collectors.models import DeviceAvailability

WINDOWS = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
RETENTION = timedelta(days=35)


def poll_slot(moment: datetime) -> int:
    """The number of the poll interval `moment` falls in, counted from the epoch."""
    return int(moment.timestamp()) // settings.ONENET_POLL_INTERVAL_S


def slot_hour(slot: int) -> datetime:
    """The hour bucket of a slot: the UTC hour its start falls in (so one slot is always one bucket)."""
    start = datetime.fromtimestamp(slot * settings.ONENET_POLL_INTERVAL_S, UTC)
    return start.replace(minute=0, second=0, microsecond=0)


def record_polls(outcomes: dict[int, bool], when: datetime | None = None) -> int:
    """Record one poll of each device in `outcomes` ({device id: answered}) at `when` (now); returns the buckets
    written. An upsert on (device, hour): a slot already counted is not counted again."""
    if not outcomes:
        return 0
    slot = poll_slot(when or timezone.now())
    hour = slot_hour(slot)
    existing = {row.device_id: row for row in DeviceAvailability.objects.filter(device_id__in=list(outcomes),
                                                                                hour=hour)}
    rows = []
    for device_id, answered in outcomes.items():
        row = existing.get(device_id) or DeviceAvailability(device_id=device_id, hour=hour)
        if row.last_slot < slot:
            row.polls += 1
            row.last_slot = slot
        if answered and row.last_answered_slot < slot:
            row.answered += 1
            row.last_answered_slot = slot
        rows.append(row)
    DeviceAvailability.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["device", "hour"],
        update_fields=["polls", "answered", "last_slot", "last_answered_slot"], batch_size=1000)
    return len(rows)


def share(answered: int | None, polls: int | None) -> float | None:
    """answered / polls (0..1), or None when nothing was polled."""
    return answered / polls if polls else None


def since(window: str, now=None) -> datetime:
    """The first hour bucket a window counts: the last 24 hours are the 24 buckets up to this one."""
    now = now or timezone.now()
    return (now - WINDOWS[window]).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def device_availability(devices, now=None) -> dict[int, dict[str, float | None]]:
    """{device id: {window: share}} for the devices of the queryset `devices`, in one query."""
    now = now or timezone.now()
    sums = {f"{w}_{k}": Sum(k, filter=Q(hour__gte=since(w, now))) for w in WINDOWS for k in ("polls", "answered")}
    out = {}
    for row in (DeviceAvailability.objects.filter(device__in=devices, hour__gte=since("30d", now)).order_by()
                .values("device_id").annotate(**sums)):
        out[row["device_id"]] = {w: share(row[f"{w}_answered"], row[f"{w}_polls"]) for w in WINDOWS}
    return out


def county_of(path: str) -> str:
    """The county slug of a region path, or "city" for the city level's own."""
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else "city"


def availability_by_county(devices, now=None) -> dict[str, dict[str, dict]]:
    """{county slug or "city": {window: {"polls", "answered", "share"}}} of the queryset `devices`, in one query."""
    now = now or timezone.now()
    sums = {f"{w}_{k}": Sum(k, filter=Q(hour__gte=since(w, now))) for w in WINDOWS for k in ("polls", "answered")}
    counts = defaultdict(lambda: {w: {"polls": 0, "answered": 0} for w in WINDOWS})
    for row in (DeviceAvailability.objects.filter(device__in=devices, hour__gte=since("30d", now)).order_by()
                .values("device__site__region__path").annotate(**sums)):
        bucket = counts[county_of(row["device__site__region__path"])]
        for w in WINDOWS:
            bucket[w]["polls"] += row[f"{w}_polls"] or 0
            bucket[w]["answered"] += row[f"{w}_answered"] or 0
    for bucket in counts.values():
        for figures in bucket.values():
            figures["share"] = share(figures["answered"], figures["polls"])
    return dict(counts)


def month_bounds(month: str | None = None, now=None) -> tuple[datetime, datetime, str]:
    """(start, end, "YYYY-MM") of a month in the configured zone; this month for a missing or malformed value."""
    local = timezone.localtime(now or timezone.now())
    try:
        year, number = (int(x) for x in (month or "").split("-"))
        start = local.replace(year=year, month=number, day=1, hour=0, minute=0, second=0, microsecond=0)
    except ValueError:
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, timezone.localtime(end).replace(hour=0), f"{start:%Y-%m}"


def prune_availability(now=None) -> dict:
    """Drop the buckets older than 35 days, but never those of the previous calendar month: its monthly report stays
    whole until the month after it ends."""
    now = now or timezone.now()
    this_month, _end, _label = month_bounds(now=now)
    previous_month = month_bounds((this_month - timedelta(days=1)).strftime("%Y-%m"), now=now)[0]
    cutoff = min(now - RETENTION, previous_month)
    deleted, _ = DeviceAvailability.objects.filter(hour__lt=cutoff).delete()
    return {"availability_pruned": deleted}
