"""The append-only audit log of every change step: who, when, which device, the diff, the outcome."""

from __future__ import annotations

from changes.choices import Outcome
from changes.models import AuditEntry, ChangeRequest

EXPORT_COLUMNS = ("time", "change", "user", "device", "action", "outcome", "message", "diff")


def record(change: ChangeRequest, action: str, user=None, *, device=None, outcome: str = Outcome.OK,
           message: str = "", diff: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        change=change, action=action, outcome=outcome, message=message[:4000], diff=diff,
        user=user if user is not None and user.is_authenticated else None,
        username=user.get_username() if user is not None else "onenet",
        device=device, device_name=device.name if device is not None else "")


def export_rows(entries) -> list[list]:
    """The audit entries as table rows (the console's CSV/XLSX export escapes them)."""
    return [[entry.time, f"#{entry.change_id}", entry.username, entry.device_name, entry.get_action_display(),
             entry.get_outcome_display(), entry.message, entry.diff] for entry in entries]
