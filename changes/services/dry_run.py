"""The dry run: what each device of a change would get, read from its running config, before anyone approves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from changes.choices import Action, ChangeStatus, Outcome, TaskStatus
from changes.models import ChangeRequest, ChangeTask
from changes.services import audit
from changes.services.devices import open_device, section_diff
from collectors.services.hostkeys import after_session
from platforms import DriverError
from web.errors import OneNetError


@dataclass
class DryRun:
    task_id: int
    diff: str = ""
    push_lines: list[str] | None = None
    error: OneNetError | None = None
    host_key: str | None = None
    first_use: bool = False


def _dry_run(task: ChangeTask) -> DryRun:
    """What the device would get, read from its running config (a worker thread: no database)."""
    result = DryRun(task.pk)
    try:
        with open_device(task.device) as driver:
            result.host_key, result.first_use = driver.host_key, driver.host_key_first_use
            running = driver.running_config()
            driver.load_merge_candidate(config=task.lines)
            result.push_lines = driver.candidate_lines(running)
            before = driver.normalise_config(running)
            after = driver.platform.parse(before).apply_lines(result.push_lines).text()
            result.diff = section_diff(driver.platform, before, after, task.device.name)
    except OneNetError as error:
        result.error = error
    except Exception as error:  # noqa: BLE001 - a hostile or broken device fails alone
        result.error = OneNetError("SSH_ERROR", f"{type(error).__name__}: {error}")
    return result


def prepare(change: ChangeRequest) -> ChangeRequest:
    """Dry-run every device (in parallel), store each diff; the change then waits for approval."""
    tasks = list(change.tasks.filter(status=TaskStatus.PENDING).select_related(
        "device__ssh_credential", "device__ssh_host_key"))
    workers = max(1, min(len(tasks), settings.ONENET_BACKUP_WORKERS))
    with ThreadPoolExecutor(workers, thread_name_prefix="dry-run") as pool:
        results = list(pool.map(_dry_run, tasks)) if tasks else []
    for task, result in zip(tasks, results, strict=True):
        after_session(task.device, result.host_key, result.first_use,
                      result.error if isinstance(result.error, DriverError) else None)
        if result.error is not None:
            task.status, task.reason = TaskStatus.CANCELLED, f"not reachable for the dry run: {result.error.message}"
            task.finished_at = timezone.now()
            outcome = Outcome.FAILED
        elif not result.diff:
            task.status, task.reason, task.finished_at = TaskStatus.UNCHANGED, "already in place", timezone.now()
            outcome = Outcome.INFO
        else:
            outcome = Outcome.OK
        task.diff, task.push_lines = result.diff, result.push_lines
        task.save(update_fields=["status", "reason", "finished_at", "diff", "push_lines"])
        audit.record(change, Action.DRY_RUN, device=task.device, outcome=outcome, message=task.reason,
                     diff=task.diff)
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if change.status == ChangeStatus.PREPARING:
            change.status = ChangeStatus.AWAITING_APPROVAL
            change.save(update_fields=["status"])
    return change
