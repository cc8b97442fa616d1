"""'Back up now' and 'poll now' for one device: a task on the device's county queue, followed on the device page.

A poll is followed by its PollRun (scope `device:<name>`, queued here, taken over by the worker's cycle), which
every user who sees the device sees. A backup has no run of its own: it is followed from the time it was asked
for (kept by the caller, the console keeps it in the session) against DeviceState.last_backup_at, which the
backup writes when it ends; so a backup shows "queued or running", then done or failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from collectors.models import ConfigVersion, DeviceState, PollRun, PollRunStatus
from collectors.services.schedules import queue_for
from inventory.models import Device, Region
from web.celery import app as celery_app

POLL_DEVICE = "collectors.poll_device"  # collectors.tasks' stable task names
BACKUP_DEVICE = "collectors.backup_device"
RECENT = timedelta(hours=1)  # a device's poll run older than this is history, not progress


def device_county(device: Device) -> Region | None:
    """The device's county, or None for the city level's own devices."""
    parts = [p for p in device.site.region.path.split("/") if p]
    if len(parts) < 2:
        return None
    return Region.objects.filter(level="county", path=f"/{parts[0]}/{parts[1]}/").first()


def device_queue(device: Device) -> str:
    """The queue of the device's county (`county.<slug>`), or `city` for the city level's own devices."""
    return queue_for(device_county(device))


def queue_label(device: Device) -> str:
    """Whose workers take the device's tasks, as the page says it: the county's name, or the city level."""
    county = device_county(device)
    return county.name if county else _("the city level")


def may_back_up(device: Device) -> bool:
    """A backup needs the device's SSH credential."""
    return device.ssh_credential_id is not None


def request_poll(device: Device) -> dict:
    """Queue one poll of the device. `refused`: another poll (the county's, or this device's) already covers it."""
    from collectors.services.polling import PollRefused, cycle_budget_s, cycle_scope, finish_run, start_run

    scope, keys = cycle_scope(device_name=device.name)
    try:
        # Queued, the task may wait for its county's worker up to one poll interval.
        run = start_run(scope, keys, cycle_budget_s(1) + settings.ONENET_POLL_INTERVAL_S,
                        status=PollRunStatus.QUEUED)
    except PollRefused as refusal:
        return {"sent": False, "refused": str(refusal), "queue": device_queue(device)}
    queue = device_queue(device)
    try:
        celery_app.send_task(POLL_DEVICE, kwargs={"device_id": device.pk, "run_id": run.pk}, queue=queue,
                             expires=run.deadline_at)
    except Exception as exc:
        finish_run(run, f"POLL_NOT_SENT: {type(exc).__name__}: {exc}")  # frees the county for the next click
        raise
    return {"sent": True, "run": run.pk, "queue": queue}


def request_backup(device: Device) -> dict:
    """Queue one backup of the device; returns when it was asked for (what backup_status follows)."""
    queue = device_queue(device)
    requested_at = timezone.now()
    # A backup no worker took within a backup interval is dropped: the scheduled one does it by then.
    celery_app.send_task(BACKUP_DEVICE, kwargs={"device_id": device.pk}, queue=queue,
                         expires=requested_at + timedelta(seconds=settings.ONENET_BACKUP_INTERVAL_S))
    return {"sent": True, "queue": queue, "requested_at": requested_at.isoformat()}


@dataclass
class JobStatus:
    kind: str  # poll | backup
    status: str  # queued | running | done | failed | expired
    text: str  # what the page says, translated
    at: datetime | None = None
    version: int | None = None  # backup: the new config version

    @property
    def open(self) -> bool:
        return self.status in ("queued", "running")

    def as_json(self) -> dict:
        return {"kind": self.kind, "status": self.status, "text": self.text, "open": self.open,
                "at": self.at.isoformat() if self.at else None, "version": self.version}


def _local(t: datetime) -> str:
    return f"{timezone.localtime(t):%Y-%m-%d %H:%M:%S}"


def poll_status(device: Device) -> JobStatus | None:
    """The device's latest own poll run (poll now), if recent."""
    from collectors.services.polling import expire_overdue_runs

    expire_overdue_runs()
    run = PollRun.objects.filter(scope=f"device:{device.name}", started_at__gte=timezone.now() - RECENT).order_by(
        "-started_at", "-pk").first()
    if run is None:
        return None
    if run.status == PollRunStatus.QUEUED:
        return JobStatus("poll", "queued", _("Poll queued at %(t)s; waiting for a worker of %(q)s.") % {
            "t": _local(run.started_at), "q": queue_label(device)}, run.started_at)
    if run.status == PollRunStatus.RUNNING:
        return JobStatus("poll", "running", _("Poll running since %(t)s.") % {"t": _local(run.started_at)},
                         run.started_at)
    if run.status == PollRunStatus.EXPIRED:
        return JobStatus("poll", "expired", _("The poll asked for at %(t)s did not end in time: no worker took it, "
                                              "or its worker was stopped.") % {"t": _local(run.started_at)},
                         run.finished_at)
    if run.status == PollRunStatus.FAILED or run.devices_failed:
        state = DeviceState.objects.filter(device=device).first()
        error = run.error or (state.last_poll_error if state else "")
        return JobStatus("poll", "failed", _("Poll failed at %(t)s: %(error)s") % {
            "t": _local(run.finished_at or run.started_at), "error": error}, run.finished_at)
    return JobStatus("poll", "done", _("Polled at %(t)s: %(n)s interfaces, %(s)s samples written.") % {
        "t": _local(run.finished_at or run.started_at), "n": run.interfaces, "s": run.samples_written},
        run.finished_at)


def backup_status(device: Device, requested_at: datetime | None) -> JobStatus | None:
    """The backup asked for at `requested_at`: queued or running until the device's backup ends after it."""
    if requested_at is None:
        return None
    state = DeviceState.objects.filter(device=device).first()
    if state is None or state.last_backup_at is None or state.last_backup_at < requested_at:
        text = _("Backup asked for at %(t)s: queued for a worker of %(q)s, or running.") % {
            "t": _local(requested_at), "q": queue_label(device)}
        return JobStatus("backup", "queued", text, requested_at)
    if state.backup_state != "ok" or (state.last_backup_ok_at or requested_at) < requested_at:
        return JobStatus("backup", "failed", _("Backup failed at %(t)s: %(error)s") % {
            "t": _local(state.last_backup_at), "error": state.last_backup_error}, state.last_backup_at)
    version = ConfigVersion.objects.filter(device=device, fetched_at=state.last_backup_ok_at).first()
    if version is not None:
        return JobStatus("backup", "done", _("Backed up at %(t)s: a new config version (+%(a)s −%(r)s).") % {
            "t": _local(state.last_backup_ok_at), "a": version.lines_added, "r": version.lines_removed},
            state.last_backup_ok_at, version.pk)
    return JobStatus("backup", "done", _("Backed up at %(t)s: the config is unchanged.") % {
        "t": _local(state.last_backup_ok_at)}, state.last_backup_ok_at)
