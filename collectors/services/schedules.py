"""Periodic work as django-celery-beat entries (editable in the admin), one set per county queue.

Each county's poll, discovery and backup go to the queue `county.<slug>`, so a county can run its
own worker next to its devices; the city level's own devices go to the queue `city`. An embedded
worker simply consumes every queue (`queue_names()`).

Tasks are sent by name (the names below are collectors.tasks' stable `name=`s), so the services never import
the tasks module: the tasks call the services, not the other way round.
"""

import json

from django.conf import settings
from django.db import transaction

from collectors.models import PollRunStatus
from inventory.models import Region
from web.celery import app as celery_app

POLL_REGION = "collectors.poll_region"
BACKUP_REGION = "collectors.backup_region"

# task name, interval setting or seconds, label
PER_REGION_TASKS = [
    (POLL_REGION, lambda: settings.ONENET_POLL_INTERVAL_S, "poll"),
    ("collectors.discover_region", lambda: 6 * 3600, "discover interfaces"),
    (BACKUP_REGION, lambda: settings.ONENET_BACKUP_INTERVAL_S, "backup configs"),
]
GLOBAL_TASKS = [("collectors.rollup_and_prune", 3600, "roll up samples and prune old ones")]


def region_path_or_city(region_id: int | None) -> tuple[str | None, bool]:
    """The device filter for a task: a county's subtree, or the city level's own devices."""
    if region_id is None:
        return None, True
    return Region.objects.get(pk=region_id).path, False


def queue_for(region: Region | None) -> str:
    return f"county.{region.slug}" if region else "city"


def queue_names() -> list[str]:
    return ["celery", "city", *(queue_for(r) for r in Region.objects.filter(level="county").order_by("slug"))]


@transaction.atomic
def install_schedules() -> dict:
    """Create or refresh the periodic tasks; intervals edited in the admin are kept."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    def every(seconds: int) -> IntervalSchedule:
        return IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)[0]

    created = 0
    targets = [None, *Region.objects.filter(level="county").order_by("slug")]
    for task, interval, label in PER_REGION_TASKS:
        for region in targets:
            name = f"{label}: {region.slug if region else 'city'}"
            _, new = PeriodicTask.objects.get_or_create(name=name, defaults={
                "task": task, "interval": every(interval()), "queue": queue_for(region),
                "kwargs": json.dumps({"region_id": region.pk if region else None})})
            created += new
    for task, interval, label in GLOBAL_TASKS:
        _, new = PeriodicTask.objects.get_or_create(name=label, defaults={"task": task, "interval": every(interval),
                                                                         "queue": "celery"})
        created += new
    return {"created": created, "queues": queue_names()}


def _regions_under(path: str) -> list[Region | None]:
    """The task targets for a scope: the city level (None) and every county for the whole network;
    otherwise the county the scope lies in (queues are per county, so a township's poll is its county's)."""
    if path == "/" or path.count("/") == 2:  # "/" or the city root "/city/"
        return [None, *Region.objects.filter(level="county").order_by("slug")]
    county_path = "/".join(path.split("/")[:3]) + "/"
    return list(Region.objects.filter(level="county", path=county_path))


def request_polls(path: str = "/") -> dict:
    """Queue the poll tasks covering `path`, once: a part of the network whose poll is already queued or running
    is left alone, so 'collect now' clicked 30 times sends one set of tasks.

    Each task gets a queued PollRun holding its part's lock (the Bandwidth page shows it at once); the worker's
    cycle takes the run over. A task no worker starts before the run's deadline is dropped by celery (`expires`),
    and the run expires with it.
    """
    # Here, not at the top: the console imports this module for 'collect now', and need not load the SNMP client.
    from collectors.services.polling import (
        PollRefused,
        cycle_budget_s,
        cycle_scope,
        finish_run,
        pollable_devices,
        start_run,
    )

    sent, already = 0, 0
    for region in _regions_under(path):
        region_path, city_only = (None, True) if region is None else (region.path, False)
        scope, keys = cycle_scope(region_path=region_path, city_only=city_only)
        devices = pollable_devices(region_path=region_path, city_only=city_only).count()
        # Queued, a task may wait for its county's worker up to one poll interval before its cycle starts.
        budget = cycle_budget_s(devices) + settings.ONENET_POLL_INTERVAL_S
        try:
            run = start_run(scope, keys, budget, status=PollRunStatus.QUEUED)
        except PollRefused:
            already += 1
            continue
        try:
            celery_app.send_task(POLL_REGION, kwargs={"region_id": region.pk if region else None, "run_id": run.pk},
                                 queue=queue_for(region), expires=run.deadline_at)
        except Exception as exc:
            finish_run(run, f"POLL_NOT_SENT: {type(exc).__name__}: {exc}")  # frees the part for the next click
            raise
        sent += 1
    return {"sent": sent, "already_running": already}


def send_polls(path: str = "/", with_backup: bool = False) -> int:
    """Send the poll (and backup) tasks covering `path` to their queues, now; returns how many were sent.
    Polls already queued or running are not sent again (request_polls)."""
    sent = request_polls(path)["sent"]
    if with_backup:
        for region in _regions_under(path):
            celery_app.send_task(BACKUP_REGION, kwargs={"region_id": region.pk if region else None},
                                 queue=queue_for(region))
            sent += 1
    return sent


def run_now() -> int:
    """Every region's poll and backup once, now (the demo's first data without waiting for beat)."""
    return send_polls("/", with_backup=True)
