"""Containment proposals: an incident's containment from its proposal until the change pipeline has it done.

A proposal is registered when the containment producer (changes.services.producers.contain) makes its change
request, so a proposal is a change of the one pipeline, never a second approval workflow. Its state is derived,
never set by hand (`derive`):
- proposed: the change's dry run runs or it awaits approval;   - approved: approved, waiting or being pushed;
- applied: the change completed (the switch took the lines, or already had them);
- verified: a backup of the switch taken after the change completed shows the lines;
- rejected / failed (rolled back, not pushed) / withdrawn (cancelled, or closed when the incident was resolved).
At most one proposal per incident is active (proposed, approved, applied: a unique index), and resolving the
incident withdraws the one that has not started. (This module never imports the producers: they import it.)
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from threat.choices import ACTIVE_PROPOSAL, IncidentEventKind, IncidentStatus, ProposalState
from threat.models import ContainmentProposal, Incident
from threat.services import ThreatError

log = logging.getLogger(__name__)

FINAL = (ProposalState.VERIFIED, ProposalState.REJECTED, ProposalState.FAILED, ProposalState.WITHDRAWN)


def _already(incident: Incident) -> ThreatError:
    return ThreatError("THREAT_PROPOSAL_ACTIVE", f"incident #{incident.pk} ({incident.src}) already has a containment "
                                                 "proposal in progress; follow it, or reject or cancel its change "
                                                 "first.")


def register(change, alert, kind: str, user) -> ContainmentProposal:
    """The proposal of a containment change just created (inside the producer's transaction: refusing it undoes
    the change). Refused when the alert's incident already has an active proposal."""
    from threat.services.incidents import attach, event

    incident = attach(alert) if alert.incident_id is None else alert.incident
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.proposals.filter(state__in=ACTIVE_PROPOSAL).exists():
        raise _already(incident)
    try:
        with transaction.atomic():
            proposal = ContainmentProposal.objects.create(incident=incident, alert=alert, change=change, kind=kind,
                                                          created_by=user)
    except IntegrityError:  # another proposal won the race
        raise _already(incident) from None
    event(incident, IncidentEventKind.PROPOSAL, f"#{change.pk}", user, "",
          ProposalState.PROPOSED)
    _mirror(incident)
    return proposal


def containment_alert(incident: Incident):
    """The alert a containment is written for: a located one (switch and port known), the most severe, newest."""
    return (incident.alerts.filter(switch__isnull=False).exclude(switch_port="")
            .order_by("-severity_rank", "-located_at", "-pk").first())


def check_can_propose(incident: Incident):
    """The alert a new proposal for the incident contains, or the reason there can be none (the containment
    producer, changes.services.producers.contain_incident, asks this first)."""
    if not incident.is_open:
        raise ThreatError("THREAT_TRANSITION_REFUSED", f"incident #{incident.pk} is resolved; nothing to contain.")
    if incident.proposals.filter(state__in=ACTIVE_PROPOSAL).exists():
        raise _already(incident)
    alert = containment_alert(incident)
    if alert is None:
        raise ThreatError("THREAT_NOT_LOCATED", "this incident's host has no known switch port yet; locate it first "
                                                "(run `manage.py backup`, then locate again).")
    return alert


# -- the state, derived ---------------------------------------------------------------------------------------
def derive(proposal: ContainmentProposal) -> str:
    """The proposal's state from its change request and the switch's backups (final states stay)."""
    from changes.choices import ChangeStatus, TaskStatus

    if proposal.state in FINAL:
        return proposal.state
    change = proposal.change
    if change is None:
        return ProposalState.WITHDRAWN
    status = change.status
    if status in (ChangeStatus.PREPARING, ChangeStatus.AWAITING_APPROVAL):
        return ProposalState.PROPOSED
    if status in (ChangeStatus.APPROVED, ChangeStatus.RUNNING, ChangeStatus.AWAITING_CONFIRM):
        return ProposalState.APPROVED
    if status == ChangeStatus.REJECTED:
        return ProposalState.REJECTED
    if status == ChangeStatus.CANCELLED:
        return ProposalState.WITHDRAWN
    if status == ChangeStatus.COMPLETED:
        if not change.tasks.filter(status__in=(TaskStatus.CONFIRMED, TaskStatus.UNCHANGED)).exists():
            return ProposalState.FAILED
        return ProposalState.VERIFIED if backup_shows(change) else ProposalState.APPLIED
    return ProposalState.FAILED


def backup_shows(change) -> bool:
    """A backup of the switch taken after the change completed holds every containment line (applying them to
    the newest stored config changes nothing)."""
    import platforms
    from collectors.models import ConfigVersion, DeviceState

    task = change.tasks.select_related("device").first()
    if task is None or change.finished_at is None:
        return False
    state = DeviceState.objects.filter(device=task.device).first()
    if state is None or state.last_backup_ok_at is None or state.last_backup_ok_at <= change.finished_at:
        return False  # the change's own snapshot is not a backup: the next scheduled or asked-for one is
    latest = ConfigVersion.objects.filter(device=task.device).order_by("-fetched_at", "-pk").first()
    if latest is None:
        return False
    platform = platforms.get(task.device.platform)
    now = platform.parse(latest.text).lines()
    return platform.parse(latest.text).apply_lines(list(task.lines)).lines() == now


def sync(proposal: ContainmentProposal) -> ContainmentProposal:
    """Store the derived state; an applied or verified containment marks the incident contained."""
    from threat.services.incidents import change_status, event

    state = derive(proposal)
    if state == proposal.state:
        return proposal
    with transaction.atomic():
        before, proposal.state = proposal.state, state
        now = timezone.now()
        if state == ProposalState.VERIFIED:
            proposal.verified_at = now
        if state in (ProposalState.REJECTED, ProposalState.FAILED, ProposalState.WITHDRAWN):
            proposal.closed_at = now
        proposal.save(update_fields=["state", "verified_at", "closed_at", "updated_at"])
        incident = proposal.incident
        event(incident, IncidentEventKind.PROPOSAL, f"#{proposal.change_id}", None, before, state)
        if state in (ProposalState.APPLIED, ProposalState.VERIFIED) and incident.status in (
                IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED):
            change_status(incident, IncidentStatus.CONTAINED, None, f"#{proposal.change_id}")
        _mirror(incident)
    return proposal


def sync_incidents(incidents) -> None:
    """Bring the not-final proposals of these incidents up to date (the queue's page, the incident page)."""
    for proposal in (ContainmentProposal.objects.filter(incident__in=incidents).exclude(state__in=FINAL)
                     .select_related("change", "incident")):
        try:
            sync(proposal)
        except Exception:  # noqa: BLE001 - one proposal's state never breaks a page; it is derived again next time
            log.exception("containment proposal %s could not be brought up to date", proposal.pk)


def sync_change(change) -> None:
    """After the pipeline completed a change (the change_completed signal): its proposal, if it has one."""
    proposal = ContainmentProposal.objects.filter(change=change).select_related("incident").first()
    if proposal is not None:
        sync(proposal)


def close_for(incident: Incident, user) -> None:
    """The incident is resolved: its proposal whose change has not started is withdrawn (the change cancelled)."""
    from threat.services.incidents import event

    for proposal in incident.proposals.filter(state__in=ACTIVE_PROPOSAL).select_related("change"):
        proposal = sync(proposal)
        if proposal.state not in (ProposalState.PROPOSED, ProposalState.APPROVED) or proposal.change is None:
            continue  # applied, or being pushed: the change pipeline has it now
        if _withdraw(proposal.change, user, f"incident #{incident.pk} resolved"):
            before = proposal.state
            proposal.state, proposal.closed_at = ProposalState.WITHDRAWN, timezone.now()
            proposal.save(update_fields=["state", "closed_at", "updated_at"])
            event(incident, IncidentEventKind.PROPOSAL, f"#{proposal.change_id}",
                  user, before, ProposalState.WITHDRAWN)
    _mirror(incident)


def _withdraw(change, user, reason: str) -> bool:
    """Cancel a containment change that has not started (whoever resolved the incident may: the incident's triage
    decided it); False when it has started or ended already."""
    from changes.choices import Action, ChangeStatus, Outcome
    from changes.services import ChangeError, audit
    from changes.services.requests import _close, _locked

    with transaction.atomic():
        try:
            change = _locked(change, ChangeStatus.PREPARING, ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED)
        except ChangeError:
            return False
        _close(change, ChangeStatus.CANCELLED)
        audit.record(change, Action.CANCELLED, user, outcome=Outcome.INFO, message=reason[:1000])
    return True


def _mirror(incident: Incident) -> None:
    """The incident's `containment` column: its newest proposal's state (the queue shows and exports it)."""
    newest = incident.proposals.order_by("-created_at", "-pk").values_list("state", flat=True).first()
    Incident.objects.filter(pk=incident.pk).update(containment=newest or "")
    incident.containment = newest or ""
