"""Change requests: create one for some devices, dry-run it, approve (four eyes) or reject, confirm, roll back.

Who may do what: engineers and administrators write, approve and run changes (security analysts may also write
a containment); the author cannot approve their own change unless ONENET_CHANGE_FOUR_EYES is off; every user
acts only inside their part of the administrative tree (a change's region is the narrowest one holding all its
devices). Every step is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from changes.choices import (
    CHANGE_ROLES,
    CONTAIN_ROLES,
    Action,
    ChangeStatus,
    Outcome,
    Source,
    TaskStatus,
)
from changes.models import ChangeRequest, ChangeTask
from changes.services import ChangeError, audit, pipeline
from inventory.models import Device, Region
from web.access import scope_path, scoped, user_role

CONFIRM_TIMEOUT = (60, 7200)  # seconds: VRP8's trial starts at 60 s, IOS's revert timer stops at 120 min
MAX_DEVICES = 5000
MAX_LINES = 2000
MAX_LINE_LENGTH = 512
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- who may ----------------------------------------------------------------------------------------------------
def require_role(user, roles=CHANGE_ROLES) -> None:
    if user_role(user) not in roles:
        raise ChangeError("CHANGE_NOT_ALLOWED", f"{user.get_username()} ({user_role(user) or 'no role'}) may not do "
                                                "this; ask an engineer or an administrator.")


def require_scope(user, change: ChangeRequest) -> None:
    path = scope_path(user)
    if path is None or not change.region.path.startswith(path):
        raise ChangeError("CHANGE_OUT_OF_SCOPE", f"change #{change.pk} touches devices outside "
                                                 f"{user.get_username()}'s part of the network.")


def visible_changes(user):
    return scoped(ChangeRequest.objects.select_related("region", "author", "approved_by"), user)


# -- creating ---------------------------------------------------------------------------------------------------
def check_lines(lines: list[str], where: str) -> list[str]:
    """Config-file lines as given, bounded, with no control characters (a line break inside a line would be two
    commands on the device)."""
    lines = [line.rstrip() for line in lines if line.strip()]
    if not lines:
        raise ChangeError("CHANGE_NO_LINES", f"{where} has no config lines.")
    if len(lines) > MAX_LINES:
        raise ChangeError("CHANGE_TOO_LARGE", f"{where} has {len(lines)} lines; a change holds at most {MAX_LINES}.")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_LENGTH or CONTROL.search(line):
            raise ChangeError("CHANGE_BAD_LINE", f"{where}, line {number}: longer than {MAX_LINE_LENGTH} characters "
                                                 "or holds a control character.")
    return lines


def common_region(devices: list[Device]) -> Region:
    paths = [d.site.region.path for d in devices]
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return Region.objects.get(path="/" + "/".join(common) + "/")


@dataclass
class Plan:
    """What a producer asks for: the devices, each one's lines."""

    title: str
    reason: str
    lines: dict[int, list[str]]  # device pk → config-file lines
    source: str = Source.MANUAL
    targets: str = ""
    rules: tuple[str, ...] = ()


def plan_from_text(devices: list[Device], candidate: dict[str, str], title: str, reason: str,
                   source: str = Source.MANUAL, targets: str = "") -> Plan:
    """Each device gets its platform's text (one text for all: the key "*")."""
    lines = {}
    for device in devices:
        text = candidate.get(device.platform, candidate.get("*"))
        if text is None or not text.strip():
            raise ChangeError("CHANGE_NO_TEXT_FOR_PLATFORM", f"{device.name} is a {device.platform} device and the "
                                                             "change has no lines for that platform; add them.")
        lines[device.pk] = check_lines(text.splitlines(), f"the {device.platform} lines")
    return Plan(title, reason, lines, source, targets)


def create(author, plan: Plan, confirm_timeout: int | None = None, auto_confirm: bool = True, pilot_size: int = 1,
           candidate: dict | None = None, alert=None, release_after: int | None = None) -> ChangeRequest:
    """A change request with one pending task per device (the first `pilot_size` devices are the pilot)."""
    require_role(author, CONTAIN_ROLES if plan.source == Source.CONTAINMENT else CHANGE_ROLES)
    if not plan.title.strip() or not plan.reason.strip():
        raise ChangeError("CHANGE_NO_REASON", "say what the change does (title) and why (reason).")
    if not plan.lines:
        raise ChangeError("CHANGE_NO_TARGETS", "the change names no device; pick at least one.")
    if len(plan.lines) > MAX_DEVICES:
        raise ChangeError("CHANGE_TOO_LARGE", f"a change touches at most {MAX_DEVICES} devices; split it.")
    timeout = settings.ONENET_CHANGE_CONFIRM_TIMEOUT_S if confirm_timeout is None else int(confirm_timeout)
    if not CONFIRM_TIMEOUT[0] <= timeout <= CONFIRM_TIMEOUT[1]:
        raise ChangeError("CHANGE_BAD_TIMEOUT", f"the confirm timeout must be {CONFIRM_TIMEOUT[0]} to "
                                                f"{CONFIRM_TIMEOUT[1]} seconds, not {timeout}.")
    devices = list(scoped(Device.objects.filter(pk__in=plan.lines), author).select_related("site__region"))
    if len(devices) != len(plan.lines):
        raise ChangeError("CHANGE_OUT_OF_SCOPE", "some of the devices are outside your part of the network or do "
                                                 "not exist.")
    devices.sort(key=lambda d: d.name)
    for device in devices:
        check_lines(plan.lines[device.pk], device.name)
    with transaction.atomic():
        change = ChangeRequest.objects.create(
            title=plan.title.strip()[:200], reason=plan.reason.strip()[:4000], source=plan.source,
            region=common_region(devices), targets=(plan.targets or ", ".join(d.name for d in devices[:20]))[:500],
            candidate=candidate or {}, rules=list(plan.rules), author=author, confirm_timeout=timeout,
            auto_confirm=auto_confirm, pilot_size=max(0, int(pilot_size)), alert=alert, release_after=release_after)
        ChangeTask.objects.bulk_create([
            ChangeTask(change=change, device=device, lines=plan.lines[device.pk],
                       batch=0 if number < change.pilot_size and len(devices) > 1 else 1)
            for number, device in enumerate(devices)])
        audit.record(change, Action.CREATED, author, message=f"{plan.title} ({len(devices)} device(s)): {plan.reason}")
    return change


# -- the dry run --------------------------------------------------------------------------------------------------
# -- deciding -----------------------------------------------------------------------------------------------------
def _locked(change: ChangeRequest, *statuses: str) -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().select_related("region").get(pk=change.pk)
    if change.status not in statuses:
        raise ChangeError("CHANGE_WRONG_STATUS", f"change #{change.pk} is {change.get_status_display()}; that is "
                                                 "not possible now.")
    return change


def approve(change: ChangeRequest, user, note: str = "") -> ChangeRequest:
    """A second engineer approves the dry run; the roll-out starts (now, or at `run_after`)."""
    require_role(user)
    with transaction.atomic():
        change = _locked(change, ChangeStatus.AWAITING_APPROVAL)
        require_scope(user, change)
        if settings.ONENET_CHANGE_FOUR_EYES and change.author_id == user.pk:
            raise ChangeError("CHANGE_SELF_APPROVAL", f"{user.get_username()} wrote change #{change.pk}; another "
                                                      "engineer must approve it (four eyes).")
        change.status, change.approved_by, change.approved_at = ChangeStatus.APPROVED, user, timezone.now()
        change.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(change, Action.APPROVED, user, message=note[:1000])
    if change.run_after is None or change.run_after <= timezone.now():
        pipeline.start(change, user)
    change.refresh_from_db()
    return change


def reject(change: ChangeRequest, user, note: str = "") -> ChangeRequest:
    require_role(user)
    with transaction.atomic():
        change = _locked(change, ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED)
        require_scope(user, change)
        _close(change, ChangeStatus.REJECTED)
        audit.record(change, Action.REJECTED, user, outcome=Outcome.INFO, message=note[:1000])
    return change


def cancel(change: ChangeRequest, user) -> ChangeRequest:
    """The author (or an engineer of the region) withdraws a change that has not started."""
    require_role(user, CONTAIN_ROLES if change.author_id == user.pk else CHANGE_ROLES)
    with transaction.atomic():
        change = _locked(change, ChangeStatus.PREPARING, ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED)
        require_scope(user, change)
        _close(change, ChangeStatus.CANCELLED)
        audit.record(change, Action.CANCELLED, user, outcome=Outcome.INFO)
    return change


def _close(change: ChangeRequest, status: str) -> None:
    change.status, change.finished_at = status, timezone.now()
    change.save(update_fields=["status", "finished_at"])
    change.tasks.filter(status=TaskStatus.PENDING).update(status=TaskStatus.CANCELLED, finished_at=timezone.now(),
                                                          reason=f"not pushed: the change was {status}")


def confirm(change: ChangeRequest, user) -> int:
    """Keep what was pushed and checked on every device waiting for it (before the deadline)."""
    return _on_waiting(change, user, "confirm", (TaskStatus.AWAITING_CONFIRM,))


def rollback(change: ChangeRequest, user) -> int:
    """Roll back every device waiting for confirmation, or flagged for an engineer."""
    return _on_waiting(change, user, "rollback", (TaskStatus.AWAITING_CONFIRM, TaskStatus.NEEDS_ATTENTION))


def _on_waiting(change: ChangeRequest, user, operation: str, statuses) -> int:
    require_role(user)
    change = ChangeRequest.objects.select_related("region").get(pk=change.pk)
    require_scope(user, change)
    tasks = list(change.tasks.filter(status__in=statuses).select_related("device__site__region"))
    if not tasks:
        raise ChangeError("CHANGE_NOTHING_WAITING", f"no device of change #{change.pk} waits for that.")
    pipeline.dispatch(change, tasks, operation, user.pk)
    return len(tasks)


def mark_resolved(task: ChangeTask, user, kept: bool, note: str) -> ChangeTask:
    """An engineer checked a flagged device by hand and says what it holds now: the change (kept) or not."""
    require_role(user)
    require_scope(user, task.change)
    if not note.strip():
        raise ChangeError("CHANGE_NO_REASON", "say what you found on the device.")
    with transaction.atomic():
        task = ChangeTask.objects.select_for_update().select_related("change", "device").get(pk=task.pk)
        if task.status != TaskStatus.NEEDS_ATTENTION:
            raise ChangeError("CHANGE_WRONG_STATUS", f"{task.device.name} is {task.get_status_display()}, not "
                                                     "waiting for an engineer.")
        task.status = TaskStatus.CONFIRMED if kept else TaskStatus.ROLLED_BACK
        task.reason, task.finished_at = f"resolved by {user.get_username()}: {note.strip()[:1000]}", timezone.now()
        task.save(update_fields=["status", "reason", "finished_at"])
        audit.record(task.change, Action.RESOLVED, user, device=task.device, outcome=Outcome.INFO,
                     message=task.reason)
    pipeline.advance(task.change)
    return task
