"""The roll-out: batches (the pilot, then the rest), one device's push, its post-check, confirm and rollback.

One device's push, in order, each state written before the step that needs it, so a process killed anywhere
leaves enough behind for `resolve` to settle the device:

1. take the device (its task becomes PUSHING; a unique index refuses a second change on the same device);
2. pre-snapshot: the running config, and whether SNMP answers now;
3. commit through the platform driver with the device's own commit-confirm armed for `confirm_timeout`
   (VRP8 `commit trial`, Comware `commit delay`, IOS `revert timer`); the deadline is stored first;
4. post-check: a new SSH session opens, SNMP still answers (if it did before), the intended lines are in the
   running config, no compliance rule that passed before fails now, and the rules the change fixes pass;
5. a failed post-check rolls back at once over the session that pushed (it is still open when a change cut
   management for new sessions); a passing one is confirmed (at once, or by an engineer before the deadline);
6. the new config is stored as a backup version, which re-runs compliance; every step is audited.

Pushes run in threads (SSH is I/O-bound), one celery task per county queue and batch; the database is written
from each thread with its own connection. `resolve` settles a task left PUSHING by a process that died, or
AWAITING_CONFIRM past its deadline: an unconfirmed commit is rolled back (the device's own, or the
pre-snapshot restored), and anything it cannot prove is flagged NEEDS_ATTENTION for an engineer, never left
unknown.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

import platforms
from changes.choices import (
    ACTIVE_TASK,
    STOPS_ROLLOUT,
    Action,
    ChangeStatus,
    Outcome,
    Phase,
    TaskStatus,
)
from changes.models import ChangeRequest, ChangeTask
from changes.services import audit
from changes.services.devices import lines_present, open_device, remember_key, same_config, snmp_answers
from changes.signals import change_completed
from collectors.services.backup import Fetched, store
from collectors.services.schedules import queue_for
from inventory.models import Device
from platforms import DriverError
from web.celery import app as celery_app
from web.errors import OneNetError

log = logging.getLogger(__name__)

# Set by callers that run the roll-out in their own process (the `change` command, tests): no celery.
INLINE = contextvars.ContextVar("changes_inline", default=False)
# After its deadline a PUSHING task is left to the process pushing it for this long before a sweep settles it.
SWEEP_GRACE = timedelta(seconds=30)
# A roll-out with nothing in flight for this long, or a dry run not done, is sent to the workers again.
STALLED = timedelta(minutes=10)


_worker = ""


def set_worker(name: str) -> None:
    """This process is the celery worker `name` (its node name stays the same across restarts)."""
    global _worker
    _worker = name


def worker_name() -> str:
    """Who is pushing: the celery worker's node name in a worker, else this host and process."""
    return _worker or f"{socket.gethostname()}:{os.getpid()}"


# -- the roll-out ------------------------------------------------------------------------------------------------
def start(change: ChangeRequest, user=None) -> None:
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.APPROVED:
            return
        change.status = ChangeStatus.RUNNING
        change.save(update_fields=["status"])
        audit.record(change, Action.STARTED, user, message=_plan(change))
    advance(change)


def _plan(change: ChangeRequest) -> str:
    counts = defaultdict(int)
    for task in change.tasks.filter(status=TaskStatus.PENDING):
        counts[task.batch] += 1
    pilot, rest = counts.get(0, 0), counts.get(1, 0)
    return f"pilot {pilot} device(s), then {rest}" if pilot else f"{rest} device(s)"


def advance(change: ChangeRequest) -> None:
    """The roll-out's next step: dispatch the next batch, wait for confirmations, stop after a failure, or finish.
    Safe to call any time and more than once (a dispatched task that already ran does nothing)."""
    to_dispatch: list[ChangeTask] = []
    finished = False
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if change.status not in (ChangeStatus.RUNNING, ChangeStatus.AWAITING_CONFIRM):
            return
        tasks = list(change.tasks.select_related("device__site__region"))
        in_flight = [t for t in tasks if t.status == TaskStatus.PUSHING]
        stopped = [t for t in tasks if t.status in STOPS_ROLLOUT]
        if stopped:
            pending = [t for t in tasks if t.status == TaskStatus.PENDING]
            ChangeTask.objects.filter(pk__in=[t.pk for t in pending]).update(
                status=TaskStatus.CANCELLED, reason=f"not pushed: the roll-out stopped at {stopped[0].device.name}",
                finished_at=timezone.now())
            if in_flight or any(t.status == TaskStatus.AWAITING_CONFIRM for t in tasks):
                return  # the devices in flight finish first (and may still need a confirm)
            change.status, change.finished_at = ChangeStatus.FAILED, timezone.now()
            change.save(update_fields=["status", "finished_at"])
            audit.record(change, Action.FAILED, outcome=Outcome.FAILED,
                         message=f"stopped after {stopped[0].device.name}: {stopped[0].get_status_display()}")
            return
        if in_flight:
            return
        for batch in sorted({t.batch for t in tasks}):
            in_batch = [t for t in tasks if t.batch == batch]
            pending = [t for t in in_batch if t.status == TaskStatus.PENDING]
            if pending:
                to_dispatch = pending
                if change.status != ChangeStatus.RUNNING:
                    change.status = ChangeStatus.RUNNING
                    change.save(update_fields=["status"])
                break
            if any(t.status == TaskStatus.AWAITING_CONFIRM for t in in_batch):
                if change.status != ChangeStatus.AWAITING_CONFIRM:
                    change.status = ChangeStatus.AWAITING_CONFIRM
                    change.save(update_fields=["status"])
                return  # the next batch waits until an engineer confirms this one
        else:
            change.status, change.finished_at = ChangeStatus.COMPLETED, timezone.now()
            change.save(update_fields=["status", "finished_at"])
            audit.record(change, Action.COMPLETED)
            finished = True
    if to_dispatch:
        dispatch(change, to_dispatch)
    if finished:
        change_completed.send(sender=ChangeRequest, change=change)


def dispatch(change: ChangeRequest, tasks: list[ChangeTask], operation: str = "push", user_id: int | None = None):
    """Run `operation` on the tasks' devices: in this process (INLINE), or as one celery task per county queue."""
    if INLINE.get():
        run_on_devices(change.pk, [t.pk for t in tasks], operation, user_id)
        return
    by_queue = defaultdict(list)
    for task in tasks:
        by_queue[queue_for(county_of(task.device))].append(task.pk)
    for queue, task_ids in by_queue.items():  # sent by name: the services never import the tasks module
        _send("changes.run_on_devices", [change.pk, task_ids, operation, user_id], queue)


def _send(name: str, args: list, queue: str) -> None:
    try:
        celery_app.send_task(name, args=args, queue=queue)
    except Exception as error:  # noqa: BLE001 - kombu's and redis' own errors: the broker is not there
        raise OneNetError("CHANGE_NOT_SENT", f"the task queue did not take the work ({type(error).__name__}: "
                                             f"{error}); the change is kept as it is and the sweep sends it again "
                                             "once the queue answers.") from None


def prepare_soon(change: ChangeRequest) -> None:
    """The dry run, in this process (INLINE) or by a worker (it reads every device's config)."""
    if INLINE.get():
        from changes.services.dry_run import prepare

        prepare(change)
    else:
        _send("changes.prepare", [change.pk], "celery")


def county_of(device: Device):
    region = device.site.region
    while region is not None and region.level != "county":
        region = region.parent
    return region


def run_on_devices(change_id: int, task_ids: list[int], operation: str, user_id: int | None = None) -> dict:
    """push / confirm / rollback each task's device, a few at a time in threads; then the roll-out goes on."""
    step = {"push": push_task, "confirm": confirm_task, "rollback": rollback_task}[operation]
    user = _user(user_id)

    def one(task_id: int) -> str:
        try:
            return step(task_id, user)
        except Exception:  # noqa: BLE001 - one device's bug must not stop the others; its task says so
            log.exception("change #%s: %s of task %s failed", change_id, operation, task_id)
            _flag(task_id, f"OneNet failed while doing {operation} (see the worker log); check the device.")
            return TaskStatus.NEEDS_ATTENTION
        finally:
            if len(task_ids) > 1:
                connections.close_all()  # this thread's own connection

    if len(task_ids) == 1:
        results = [one(task_ids[0])]
    else:
        with ThreadPoolExecutor(min(len(task_ids), settings.ONENET_PUSH_WORKERS), thread_name_prefix="push") as pool:
            results = list(pool.map(one, task_ids))
    advance(ChangeRequest.objects.get(pk=change_id))
    return {"tasks": len(task_ids), **{s: results.count(s) for s in set(results)}}


def _user(user_id):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()


# -- one device -------------------------------------------------------------------------------------------------
def _task(task_id: int) -> ChangeTask:
    return ChangeTask.objects.select_related("change", "device", "device__site__region",
                                             "device__ssh_credential", "device__snmp_credential").get(pk=task_id)


def _save(task: ChangeTask, **fields) -> None:
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))


def _finish(task: ChangeTask, status: str, reason: str, action: str, user=None, outcome: str = Outcome.OK,
            diff: str = "") -> str:
    _save(task, status=status, reason=reason, phase=Phase.NONE, finished_at=timezone.now())
    audit.record(task.change, action, user, device=task.device, outcome=outcome, message=reason, diff=diff)
    return status


def _flag(task_id: int, reason: str) -> None:
    task = ChangeTask.objects.select_related("change", "device").get(pk=task_id)
    if task.status in ACTIVE_TASK and task.status != TaskStatus.NEEDS_ATTENTION:
        _finish(task, TaskStatus.NEEDS_ATTENTION, reason, Action.NEEDS_ATTENTION, outcome=Outcome.FAILED)


def take_device(task: ChangeTask) -> ChangeTask | None:
    """The device for this task alone (PENDING → PUSHING); None when the task is no longer pending. Raises
    CHANGE_DEVICE_BUSY when another change holds the device."""
    now = timezone.now()
    try:
        with transaction.atomic():
            taken = ChangeTask.objects.filter(pk=task.pk, status=TaskStatus.PENDING).update(
                status=TaskStatus.PUSHING, phase=Phase.NONE, worker=worker_name(), started_at=now,
                confirm_deadline=now + timedelta(seconds=task.change.confirm_timeout))
    except IntegrityError:
        other = ChangeTask.objects.filter(device=task.device, status__in=ACTIVE_TASK).exclude(pk=task.pk).first()
        held = f"change #{other.change_id} ({other.get_status_display()})" if other else "another change"
        raise OneNetError("CHANGE_DEVICE_BUSY", f"{task.device.name} is being changed by {held}; this change did "
                                                "not touch it. Run it again once that one has finished.") from None
    return _task(task.pk) if taken else None


def push_task(task_id: int, user=None) -> str:
    task = _task(task_id)
    if task.status != TaskStatus.PENDING or task.change.status not in (ChangeStatus.RUNNING,
                                                                       ChangeStatus.AWAITING_CONFIRM):
        return task.status
    device = task.device
    resolve_leftovers(device)
    try:
        taken = take_device(task)
    except OneNetError as busy:
        return _finish(task, TaskStatus.FAILED, busy.message, Action.FAILED, outcome=Outcome.FAILED)
    if taken is None:
        return task.status
    task = taken
    platform = platforms.get(device.platform)
    driver = None
    try:
        driver = open_device(device)
        driver.open()
    except OneNetError as error:
        remember_key(device, None, error if isinstance(error, DriverError) else None)
        return _finish(task, TaskStatus.FAILED, f"not pushed: {error.message}", Action.FAILED,
                       outcome=Outcome.FAILED)
    remember_key(device, driver)
    try:
        return _push_on(driver, task, platform)
    finally:
        driver.close()


def _push_on(driver, task: ChangeTask, platform) -> str:
    device, change = task.device, task.change
    try:
        running = driver.running_config()
        pre = driver.normalise_config(running)
        driver.load_merge_candidate(config=task.lines)
        lines = driver.candidate_lines(running)
    except OneNetError as error:
        return _finish(task, TaskStatus.FAILED, f"not pushed: {error.message}", Action.FAILED, outcome=Outcome.FAILED)
    if task.push_lines is not None and lines != task.push_lines:
        return _finish(task, TaskStatus.FAILED, "not pushed: what the device would get is no longer what was "
                       "approved (its config changed since the dry run); create the change again.", Action.FAILED,
                       outcome=Outcome.FAILED)
    if lines_present(platform, pre, task.lines):
        return _finish(task, TaskStatus.UNCHANGED, "the device already holds these lines", Action.PUSHED)
    deadline = timezone.now() + timedelta(seconds=change.confirm_timeout)
    _save(task, pre_config=pre, snmp_before=snmp_answers(device), phase=Phase.COMMITTING, confirm_deadline=deadline)
    try:
        driver.commit_config(message=f"OneNet change #{change.pk}", revert_in=change.confirm_timeout)
    except DriverError as error:
        if error.code == "DRIVER_COMMIT_FAILED":  # the driver undid what went before: check it did
            return _settle_after_refusal(driver, task, platform, error)
        return resolve(task, f"the push was interrupted ({error.message})")
    except Exception as error:  # noqa: BLE001 - the session died mid-push: settle the device from a new one
        return resolve(task, f"the session to {device.name} was lost during the push ({type(error).__name__})")
    _save(task, device_timer=driver.has_pending_commit(), phase=Phase.CHECKING)
    audit.record(change, Action.PUSHED, device=device, message=f"{len(lines)} line(s)", diff=task.diff)
    problems, post = post_check(driver, task, platform)
    _save(task, post_config=post)
    if problems:
        audit.record(change, Action.POST_CHECK, device=device, outcome=Outcome.FAILED, message="; ".join(problems))
        return rollback_on(driver, task, platform, "post-check failed: " + "; ".join(problems))
    audit.record(change, Action.POST_CHECK, device=device, message="SSH, SNMP, intended lines and compliance pass")
    if not change.auto_confirm:
        _save(task, status=TaskStatus.AWAITING_CONFIRM,
              reason=f"pushed and checked; confirm before {timezone.localtime(task.confirm_deadline):%H:%M:%S} or "
                     "it rolls back")
        return task.status
    return confirm_on(driver, task, platform, None)


def _settle_after_refusal(driver, task: ChangeTask, platform, error: DriverError) -> str:
    try:
        now = driver.normalise_config(driver.running_config())
    except Exception:  # noqa: BLE001 - cannot read it back: settle from a new session
        return resolve(task, f"the device refused a line ({error.message}) and could not be read back")
    if same_config(platform, now, task.pre_config):
        return _finish(task, TaskStatus.FAILED, f"not changed: {error.message}", Action.FAILED, outcome=Outcome.FAILED)
    return resolve(task, f"the device refused a line ({error.message}) and its config is not what it was")


def post_check(driver, task: ChangeTask, platform) -> tuple[list[str], str]:
    """What is wrong after the commit (nothing: the change may be confirmed), and the config now."""
    device, problems, post = task.device, [], ""
    try:
        with open_device(device) as fresh:  # management must still let a new session in
            post = fresh.normalise_config(fresh.running_config())
    except DriverError as error:
        problems.append(f"a new SSH session was refused ({error.code})")
    except Exception as error:  # noqa: BLE001 - a hostile or broken answer counts as SSH not working
        problems.append(f"a new SSH session failed ({type(error).__name__})")
    if not post:
        try:
            post = driver.normalise_config(driver.running_config())
        except Exception:  # noqa: BLE001
            problems.append("the session that pushed was lost too")
            return problems, ""
    if task.snmp_before and not snmp_answers(device):
        problems.append("SNMP stopped answering")
    if not lines_present(platform, post, task.lines):
        problems.append("the intended lines are not all in the running config")
    problems += compliance_problems(task, post)
    return problems, post


def compliance_problems(task: ChangeTask, post: str) -> list[str]:
    """Rules that passed before and fail now, and rules the change was meant to fix that still fail."""
    from policies.choices import Status
    from policies.engine import check_config
    from policies.services import device_context

    device = task.device
    context = device_context(device)
    before = {f.rule: f.status for f in check_config(device.platform, task.pre_config, device.role, context)}
    after = {f.rule: f.status for f in check_config(device.platform, post, device.role, context)}
    worse = sorted(rule for rule, status in after.items() if status == Status.FAIL and before.get(rule) == Status.PASS)
    unfixed = sorted(rule for rule in task.change.rules if after.get(rule) == Status.FAIL)
    problems = []
    if worse:
        problems.append("compliance got worse: " + ", ".join(worse))
    if unfixed:
        problems.append("still failing: " + ", ".join(unfixed))
    return problems


def confirm_on(driver, task: ChangeTask, platform, user) -> str:
    _save(task, phase=Phase.CONFIRMING)
    try:
        if task.device_timer:
            driver.confirm_commit()
    except DriverError as error:
        return resolve(task, f"the confirm was refused ({error.message})")
    status = _finish(task, TaskStatus.CONFIRMED, "confirmed", Action.CONFIRMED, user)
    keep_backup(task)
    return status


def rollback_on(driver, task: ChangeTask, platform, reason: str, user=None) -> str:
    """Undo the commit over the session that pushed it; a new session settles it if this one cannot."""
    _save(task, phase=Phase.ROLLING_BACK)
    try:
        driver.rollback()
        now = driver.normalise_config(driver.running_config())
    except Exception as error:  # noqa: BLE001 - the session is gone, or the device refused: try a new session
        return resolve(task, f"{reason}; rolling back over the open session failed ({type(error).__name__})", user)
    if same_config(platform, now, task.pre_config):
        return _finish(task, TaskStatus.ROLLED_BACK, f"{reason}; rolled back", Action.ROLLED_BACK, user,
                       Outcome.FAILED)
    return resolve(task, f"{reason}; the rollback left a config unlike the one before", user)


def keep_backup(task: ChangeTask) -> None:
    """The confirmed config becomes the device's newest stored version (compliance re-runs on it)."""
    if not task.post_config:
        return
    result = store(task.device, Fetched(task.device.pk, config=task.post_config))
    audit.record(task.change, Action.BACKUP, device=task.device, message=f"config version {result['status']}")


# -- confirm and roll back on request ------------------------------------------------------------------------------
def claim(task: ChangeTask, phase: str, *statuses: str) -> bool:
    """Take a task waiting in one of `statuses` for one step (confirm, roll back, settle), so that an engineer's
    click and the sweep never act on the same device at once; False when someone else took it first."""
    taken = ChangeTask.objects.filter(pk=task.pk, status__in=statuses).update(
        status=TaskStatus.PUSHING, phase=phase, worker=worker_name())
    task.refresh_from_db()
    return bool(taken)


def confirm_task(task_id: int, user=None) -> str:
    task = _task(task_id)
    if not claim(task, Phase.CONFIRMING, TaskStatus.AWAITING_CONFIRM):
        return task.status
    try:
        with open_device(task.device) as driver:
            return confirm_on(driver, task, platforms.get(task.device.platform), user)
    except DriverError as error:
        return resolve(task, f"the device could not be reached to confirm ({error.message})", user)


def rollback_task(task_id: int, user=None) -> str:
    task = _task(task_id)
    if not claim(task, Phase.ROLLING_BACK, TaskStatus.AWAITING_CONFIRM, TaskStatus.NEEDS_ATTENTION):
        return task.status
    who = user.get_username() if user is not None else "OneNet"
    return resolve(task, f"rolled back by {who}", user, keep_change=False)


# -- settling a device left mid-change ----------------------------------------------------------------------------
def resolve(task: ChangeTask, reason: str, user=None, keep_change: bool = True) -> str:
    """Settle the device from a new session: keep a change that was confirmed, roll back one that was not (the
    device's own pending commit, or the pre-snapshot restored), flag what cannot be proven."""
    task.refresh_from_db()
    device, platform = task.device, platforms.get(task.device.platform)
    if not task.pre_config:  # nothing reached the device
        return _finish(task, TaskStatus.FAILED, f"not changed: {reason}", Action.FAILED, user, Outcome.FAILED)
    try:
        with open_device(device) as driver:
            remember_key(device, driver)
            pending = driver.has_pending_commit()
            running = driver.normalise_config(driver.running_config())
            if (keep_change and task.phase == Phase.CONFIRMING and not pending
                    and lines_present(platform, running, task.lines)):
                _save(task, post_config=running)
                status = _finish(task, TaskStatus.CONFIRMED, f"{reason}; the device holds the confirmed change",
                                 Action.CONFIRMED, user)
                keep_backup(task)
                return status
            if pending:
                driver.rollback()
                running = driver.normalise_config(driver.running_config())
            if not same_config(platform, running, task.pre_config):
                driver.load_replace_candidate(config=task.pre_config)
                driver.commit_config(message=f"OneNet change #{task.change_id}: restore")
                running = driver.normalise_config(driver.running_config())
    except OneNetError as error:
        deadline = timezone.localtime(task.confirm_deadline) if task.confirm_deadline else None
        timer = (f"; its own timer rolls it back at {deadline:%H:%M:%S}" if task.device_timer and deadline else "")
        return _finish(task, TaskStatus.NEEDS_ATTENTION,
                       f"{reason}; the device could not be checked ({error.message}){timer}. Check it, then mark "
                       "it resolved.", Action.NEEDS_ATTENTION, user, Outcome.FAILED)
    if same_config(platform, running, task.pre_config):
        return _finish(task, TaskStatus.ROLLED_BACK, f"{reason}; rolled back", Action.ROLLED_BACK, user,
                       Outcome.FAILED)
    return _finish(task, TaskStatus.NEEDS_ATTENTION, f"{reason}; its config could not be brought back to the "
                   "pre-snapshot. Check it, then mark it resolved.", Action.NEEDS_ATTENTION, user, Outcome.FAILED)


def resolve_leftovers(device: Device, worker: str | None = None) -> None:
    """Settle this device's tasks left mid-push by a process that is gone (its deadline passed, or `worker` is
    the name of a worker that has just started, so nothing of its own can still be running)."""
    now = timezone.now()
    for task in ChangeTask.objects.filter(device=device, status=TaskStatus.PUSHING).select_related("change",
                                                                                                     "device"):
        if (worker and task.worker == worker) or (task.confirm_deadline and task.confirm_deadline + SWEEP_GRACE < now):
            resolve(task, f"left mid-push by {task.worker or 'a process that stopped'}")


def resolve_orphans(worker: str) -> int:
    """At a worker's start: settle every device it was pushing when it died, then let those roll-outs go on."""
    tasks = list(ChangeTask.objects.filter(status=TaskStatus.PUSHING, worker=worker).select_related("device"))
    for task in tasks:
        resolve(task, f"left mid-push when {worker} stopped")
    for change in ChangeRequest.objects.filter(pk__in={t.change_id for t in tasks}):
        advance(change)
    return len(tasks)


def sweep(now=None) -> dict:
    """Run by beat every minute: roll back what nobody confirmed in time, settle pushes whose process is gone,
    start approved changes whose time has come, and move stalled roll-outs on. `now`: the time to judge
    deadlines by (tests pass a later one rather than wait)."""
    now = now or timezone.now()
    expired = list(ChangeTask.objects.filter(status=TaskStatus.AWAITING_CONFIRM, confirm_deadline__lt=now)
                   .select_related("change", "device"))
    for task in expired:
        if claim(task, Phase.ROLLING_BACK, TaskStatus.AWAITING_CONFIRM):
            resolve(task, "nobody confirmed it in time", keep_change=False)
    stale = list(ChangeTask.objects.filter(status=TaskStatus.PUSHING, confirm_deadline__lt=now - SWEEP_GRACE)
                 .select_related("change", "device"))
    for task in stale:
        resolve(task, f"left mid-push by {task.worker or 'a process that stopped'}")
    due = list(ChangeRequest.objects.filter(status=ChangeStatus.APPROVED, run_after__lte=now))
    for change in due:
        start(change)
    # Roll-outs whose next batch never reached a worker (the broker was down): sent again; pushing is idempotent.
    stalled = set(ChangeRequest.objects.filter(status=ChangeStatus.RUNNING, tasks__status=TaskStatus.PENDING)
                  .exclude(tasks__status=TaskStatus.PUSHING).exclude(tasks__started_at__gt=now - STALLED)
                  .exclude(approved_at__gt=now - STALLED)
                  .values_list("pk", flat=True))
    preparing = list(ChangeRequest.objects.filter(status=ChangeStatus.PREPARING, created_at__lt=now - STALLED))
    for change in ChangeRequest.objects.filter(pk__in={t.change_id for t in expired + stale} | stalled):
        advance(change)
    for change in preparing:
        prepare_soon(change)
    return {"rolled_back_unconfirmed": len(expired), "settled": len(stale), "started": len(due),
            "sent_again": len(stalled) + len(preparing)}

