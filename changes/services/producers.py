"""Changes made by the other apps' findings: compliance remediation, the egress roll-out and alert containment.

Each producer turns what OneNet found into one change request (per-device lines for each device's platform),
which then goes through the same dry run, approval, push and audit as a hand-written one.

Containment renders the threat app's shut-port or host-block lines for the alert's located switch port. When
the containment change completes, the alert is marked contained, and with `release_after` a release change (the
port opened again, the ACL removed) is created, approved by whoever approved the containment and due
`release_after` seconds later: it is a change of its own, dry-run and pushed like any other when it is due.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import platforms
from changes.choices import Action, ChangeStatus, Outcome, Source
from changes.models import ChangeRequest, ChangeTask
from changes.services import ChangeError, audit, pipeline
from changes.services.requests import Plan, create
from collectors.models import ConfigVersion
from egress.models import EgressResult
from policies.choices import Status
from policies.models import RuleResult
from web.access import scoped
from web.errors import OneNetError

MAX_RELEASE_AFTER = 30 * 86400


def from_findings(user, results, reason: str = "", **options) -> ChangeRequest:
    """One change fixing failing compliance results: each device gets the remediation of its failing rules."""
    results = list(scoped(RuleResult.objects.filter(pk__in=[r.pk for r in results], status=Status.FAIL)
                          .exclude(remediation=[]).select_related("device"), user))
    if not results:
        raise ChangeError("CHANGE_NO_TARGETS", "none of those findings fails with a remediation in your part of the "
                                               "network; pick failing findings.")
    lines, rules = defaultdict(list), sorted({r.rule for r in results})
    for result in sorted(results, key=lambda r: (r.device.name, r.rule)):
        lines[result.device_id] += [line for line in result.remediation if line not in lines[result.device_id]
                                    or line[:1] in (" ", "\t")]
    devices = {r.device.name for r in results}
    title = f"Fix {', '.join(rules)} on {len(devices)} device(s)"
    plan = Plan(title[:200], reason or f"Compliance remediation of {', '.join(rules)}", dict(lines),
                Source.COMPLIANCE, ", ".join(sorted(devices))[:500], tuple(rules))
    change = create(user, plan, **options)
    pipeline.prepare_soon(change)
    return change


def egress_rollout(user, devices=None, reason: str = "", **options) -> ChangeRequest:
    """The unified egress policy onto the devices that do not enforce it (their egress results' remediation)."""
    results = scoped(EgressResult.objects.filter(status=Status.FAIL).exclude(remediation=[]).select_related("device"),
                     user)
    if devices is not None:
        results = results.filter(device__in=devices)
    results = list(results)
    if not results:
        raise ChangeError("CHANGE_NO_TARGETS", "every device in your part of the network already enforces the egress "
                                               "policy (or has no remediation); nothing to roll out.")
    lines, rules = defaultdict(list), sorted({r.rule for r in results})
    for result in sorted(results, key=lambda r: (r.device.name, r.rule)):
        lines[result.device_id] += result.remediation
    names = sorted({r.device.name for r in results})
    plan = Plan(f"Egress policy onto {len(names)} device(s)", reason or "Unified egress policy roll-out", dict(lines),
                Source.EGRESS, ", ".join(names)[:500], tuple(rules))
    change = create(user, plan, **options)
    pipeline.prepare_soon(change)
    return change


# -- containment --------------------------------------------------------------------------------------------------
def contain(alert, kind: str, user, release_after: int | None = None, **options) -> ChangeRequest:
    """A change that contains the alert's located host on its access switch port (shut it, or block the host)."""
    from threat.choices import EventKind
    from threat.models import Alert, AlertEvent
    from threat.services.containment import render, valid_host, valid_interface

    if not scoped(Alert.objects.filter(pk=alert.pk), user).exists():
        raise ChangeError("CHANGE_OUT_OF_SCOPE", f"alert #{alert.pk} is outside your part of the network.")
    if alert.switch_id is None or not alert.switch_port:
        raise ChangeError("THREAT_NOT_LOCATED", "this alert's host has no known switch port yet; locate it first "
                                                "(run `manage.py backup`, then locate again).")
    if release_after is not None and not 60 <= int(release_after) <= MAX_RELEASE_AFTER:
        raise ChangeError("CHANGE_BAD_TIMEOUT", f"release after 60 s to {MAX_RELEASE_AFTER // 86400} days, not "
                                                f"{release_after} s.")
    device = alert.switch
    port, host = valid_interface(device, alert.switch_port), valid_host(alert.src)
    platform = platforms.get(device.platform)
    latest = ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").first()
    tree = platform.parse(latest.text if latest else "")
    label = f"ONENET-CONTAIN-{alert.pk}"
    lines = render(platform, kind, tree, port, host, label)
    what = {"shutdown-port": f"shut {port}", "acl-block-host": f"block {host} on {port}"}[kind]
    plan = Plan(f"Contain alert #{alert.pk}: {what} on {device.name}"[:200],
                f"{alert.get_kind_display()} from {alert.src}; {what} on {device.name}", {device.pk: lines},
                Source.CONTAINMENT, f"{device.name} {port}")
    with transaction.atomic():
        spec = {"kind": kind, "port": port, "host": host, "acl": _acl_of(platform, tree, kind, label)}
        change = create(user, plan, alert=alert, release_after=release_after, candidate=spec, **options)
        AlertEvent.objects.create(alert=alert, kind=EventKind.CONTAINMENT, actor=user,
                                  text=f"change #{change.pk}: {what} on {device.name}")
        # The incident's containment proposal follows this change; refused (and the change undone) when the
        # incident already has one in progress.
        from threat.services.proposals import register

        register(change, alert, kind, user)
    pipeline.prepare_soon(change)
    return change


def contain_incident(incident, kind: str, user, release_after: int | None = None, **options):
    """An incident's containment proposal: the containment change of its located alert (the most severe); returns
    the proposal, which follows the change (threat.services.proposals)."""
    from threat.models import ContainmentProposal
    from threat.services.proposals import check_can_propose

    alert = check_can_propose(incident)
    change = contain(alert, kind, user, release_after=release_after, **options)
    return ContainmentProposal.objects.get(change=change)


def _acl_of(platform, tree, kind: str, label: str) -> str:
    return platform.acl_for(tree, label) if kind == "acl-block-host" else ""


def containment_completed(change: ChangeRequest) -> None:
    """The containment holds on the switch: the alert is contained, and its release is scheduled if asked for."""
    from threat.choices import AlertStatus
    from threat.services.alerts import change_status

    alert = change.alert
    confirmed = change.tasks.filter(status="confirmed").exists()
    if alert is not None and confirmed and alert.status != AlertStatus.CONTAINED:
        try:
            change_status(alert, AlertStatus.CONTAINED, change.approved_by, f"change #{change.pk} confirmed")
        except OneNetError as error:  # a resolved alert stays resolved; the change is still done
            audit.record(change, Action.COMPLETED, outcome=Outcome.INFO, message=f"alert not marked contained: {error}")
    if change.release_after and confirmed and not hasattr(change, "release"):
        schedule_release(change)


def schedule_release(change: ChangeRequest) -> ChangeRequest:
    """The change that undoes a containment, approved with it and due `release_after` seconds from now."""
    task = change.tasks.select_related("device").get()
    platform = platforms.get(task.device.platform)
    spec = change.candidate
    if spec.get("kind") == "shutdown-port":
        lines = platform.render_port_release(spec["port"])
    else:
        lines = platform.render_host_unblock(spec["port"], spec["host"], spec["acl"])
    with transaction.atomic():
        release = ChangeRequest.objects.create(
            title=f"Release: {change.title}"[:200], reason=f"Planned release of change #{change.pk}",
            source=Source.RELEASE, status=ChangeStatus.APPROVED, region=change.region, targets=change.targets,
            author=change.author, approved_by=change.approved_by, approved_at=timezone.now(),
            confirm_timeout=change.confirm_timeout, auto_confirm=True, pilot_size=0, alert=change.alert,
            release_of=change, run_after=timezone.now() + timedelta(seconds=change.release_after))
        ChangeTask.objects.create(change=release, device=task.device, lines=lines, batch=1)
        due = timezone.localtime(release.run_after)
        audit.record(release, Action.APPROVED, change.approved_by,
                     message=f"approved with change #{change.pk}; due {due:%Y-%m-%d %H:%M}")
    return release
