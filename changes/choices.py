"""The change pipeline's vocabularies: where a change comes from, its status, each device's status, audit actions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    MANUAL = "manual", _("Written by hand")
    TEMPLATE = "template", _("From a template")
    COMPLIANCE = "compliance", _("Compliance remediation")
    EGRESS = "egress", _("Egress policy roll-out")
    CONTAINMENT = "containment", _("Alert containment")
    RELEASE = "release", _("Containment release")


class ChangeStatus(models.TextChoices):
    PREPARING = "preparing", _("Dry run in progress")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved, waiting to run")
    RUNNING = "running", _("Running")
    AWAITING_CONFIRM = "awaiting_confirm", _("Awaiting confirmation")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Stopped: a device failed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_CHANGE = (ChangeStatus.PREPARING, ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED, ChangeStatus.RUNNING,
               ChangeStatus.AWAITING_CONFIRM)


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    UNCHANGED = "unchanged", _("Nothing to change")
    PUSHING = "pushing", _("Pushing")
    AWAITING_CONFIRM = "awaiting_confirm", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    FAILED = "failed", _("Failed, device unchanged")
    NEEDS_ATTENTION = "needs_attention", _("Needs an engineer")
    CANCELLED = "cancelled", _("Not pushed")


# A device with a task in one of these is being changed: no other change may touch it (one at a time, enforced by
# a unique index). NEEDS_ATTENTION holds it too, until an engineer has looked at the device.
ACTIVE_TASK = (TaskStatus.PUSHING, TaskStatus.AWAITING_CONFIRM, TaskStatus.NEEDS_ATTENTION)
FINAL_TASK = (TaskStatus.UNCHANGED, TaskStatus.CONFIRMED, TaskStatus.ROLLED_BACK, TaskStatus.FAILED,
              TaskStatus.CANCELLED)
# A device that ended in one of these stops the roll-out.
STOPS_ROLLOUT = (TaskStatus.ROLLED_BACK, TaskStatus.FAILED, TaskStatus.NEEDS_ATTENTION)


class Phase(models.TextChoices):
    """Where a push is, written before each step that touches the device, so a resolver knows what to check."""

    NONE = "", _("Not started")
    COMMITTING = "committing", _("Committing")
    CHECKING = "checking", _("Post-check")
    CONFIRMING = "confirming", _("Confirming")
    ROLLING_BACK = "rolling_back", _("Rolling back")


class Action(models.TextChoices):
    CREATED = "created", _("Created")
    DRY_RUN = "dry_run", _("Dry run")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    STARTED = "started", _("Roll-out started")
    PUSHED = "pushed", _("Pushed")
    POST_CHECK = "post_check", _("Post-check")
    CONFIRMED = "confirmed", _("Confirmed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Flagged for an engineer")
    RESOLVED = "resolved", _("Resolved")
    COMPLETED = "completed", _("Completed")
    BACKUP = "backup", _("Backed up")


class Outcome(models.TextChoices):
    OK = "ok", _("OK")
    FAILED = "failed", _("Failed")
    INFO = "info", _("Info")


# Who may write, approve and run changes; managers and security analysts read (security may contain an alert).
CHANGE_ROLES = frozenset({"engineer", "admin"})
CONTAIN_ROLES = frozenset({"engineer", "admin", "security"})
