"""Incidents: one per infected host, grouping every alert from its address while it is open; their triage.

Ingest attaches each new alert to the open incident of its source address, or opens one (`attach`); the
incident's severity, times, kinds, count and location follow its alerts (`refresh`). Triage works on incidents,
one at a time or in bulk from the queue: acknowledge, assign (to any triage user whose scope covers the incident's
region, `assignable_users`), resolve. Each action writes an incident event with its actor, and the status reaches
the incident's alerts (with their own events), so an alert and its incident never disagree about being open.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from inventory.choices import RegionLevel
from threat.choices import (
    INCIDENT_OPEN,
    INCIDENT_TRANSITIONS,
    OPEN_STATUSES,
    SEVERITY_RANK,
    TRANSITIONS,
    TRIAGE_ROLES,
    AlertStatus,
    EventKind,
    IncidentEventKind,
    IncidentStatus,
)
from threat.models import Alert, AlertEvent, Incident, IncidentEvent
from threat.services import ThreatError
from threat.signals import incident_resolved
from web.access import WHOLE_NETWORK, scope_path

SEVERITY_OF_RANK = {rank: name for name, rank in SEVERITY_RANK.items()}
BULK_ACTIONS = ("acknowledge", "assign", "resolve")
MAX_BULK = 500  # one form's worth of rows; a bigger POST is refused, not half-done


def event(incident: Incident, kind: str, text: str = "", actor=None, from_status: str = "", to_status: str = ""):
    return IncidentEvent.objects.create(incident=incident, kind=kind, text=text[:500], actor=actor,
                                        from_status=from_status, to_status=to_status)


def county_of(region):
    if region is None:
        return None
    return next((r for r in region.ancestors() if r.level == RegionLevel.COUNTY), None)


# -- grouping -------------------------------------------------------------------------------------------------
def open_incident_for(alert: Alert) -> Incident:
    """The open incident of the alert's source address, opened now if there is none (locked either way).

    Two ingests opening the same host's incident at once meet at the unique index: the second takes the first's.
    """
    incident = Incident.objects.select_for_update().filter(src=alert.src, status__in=INCIDENT_OPEN).first()
    if incident is not None:
        return incident
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                src=alert.src, severity=alert.severity, severity_rank=alert.severity_rank, kinds=alert.kind,
                first_seen=alert.first_seen, last_seen=alert.last_seen, received_at=alert.received_at,
                region=alert.region, county=county_of(alert.region), agency=alert.agency, site=alert.site)
    except IntegrityError:
        return Incident.objects.select_for_update().get(src=alert.src, status__in=INCIDENT_OPEN)
    event(incident, IncidentEventKind.OPENED, alert.src)
    return incident


def attach(alert: Alert) -> Incident:
    """Put the alert in its host's open incident (it stays in the one it has while that is open); refresh both."""
    with transaction.atomic():
        old = alert.incident if alert.incident_id else None
        if old is not None and old.status in INCIDENT_OPEN:
            refresh(old)
            return old
        incident = open_incident_for(alert)
        alert.incident = incident
        Alert.objects.filter(pk=alert.pk).update(incident=incident)
        event(incident, IncidentEventKind.ALERT, f"#{alert.pk} → {alert.dst or '*'}")
        refresh(incident)
        if old is not None:
            refresh(old)
    return incident


def refresh(incident: Incident) -> Incident:
    """The incident's figures from its alerts: max severity, first/last seen, count, kinds and the location."""
    alerts = Alert.objects.filter(incident=incident)
    figures = alerts.aggregate(rank=Max("severity_rank"), first=Min("first_seen"), last=Max("last_seen"),
                               count=Count("pk"))
    if figures["count"]:
        incident.severity_rank = figures["rank"]
        incident.severity = SEVERITY_OF_RANK.get(figures["rank"], "low")
        incident.first_seen, incident.last_seen = figures["first"], figures["last"]
    incident.alert_count = figures["count"]
    incident.kinds = " ".join(sorted(set(alerts.values_list("kind", flat=True))))[:200]
    placed = alerts.filter(agency__isnull=False).order_by("pk").first()
    if placed is not None:
        incident.agency_id, incident.site_id = placed.agency_id, placed.site_id
    located = alerts.filter(switch__isnull=False).order_by("-located_at", "-pk").first()
    if located is not None:
        incident.mac, incident.switch_id, incident.switch_port = located.mac, located.switch_id, located.switch_port
    incident.save(update_fields=["severity", "severity_rank", "first_seen", "last_seen", "alert_count", "kinds",
                                 "agency", "site", "mac", "switch", "switch_port", "updated_at"])
    return incident


def group_existing() -> int:
    """Every alert without an incident joins its host's (the migration's grouping, also for alerts made by hand)."""
    done = 0
    for alert in Alert.objects.filter(incident__isnull=True).order_by("received_at", "pk").iterator():
        attach(alert)
        done += 1
    return done


# -- who may be assigned ----------------------------------------------------------------------------------------
def ancestor_paths(path: str) -> list[str]:
    """"/city/nanjiang/t01/" → ["/city/", "/city/nanjiang/", "/city/nanjiang/t01/"]."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def _triage_users():
    users = get_user_model().objects.filter(is_active=True).select_related("profile__region")
    return users.filter(Q(profile__role__in=TRIAGE_ROLES) | Q(profile__isnull=True, is_superuser=True))


def assignable_users(incident: Incident):
    """The users an incident may be assigned to: triage roles whose scope covers its region (the whole network,
    its county, or a township above it), whoever assigns it."""
    whole = Q(profile__isnull=True) | Q(profile__region__isnull=True)
    if incident.region_id is None:
        return _triage_users().filter(whole).order_by("username")
    covering = Q(profile__region__path__in=ancestor_paths(incident.region.path))
    return _triage_users().filter(whole | covering).order_by("username")


def assignee_choices(user):
    """The users someone may pick as assignee in the queue: triage users whose scope meets the user's (above it,
    or inside it); each incident is checked against its own region when assigned."""
    path = scope_path(user)
    if path is None:
        return get_user_model().objects.none()
    whole = Q(profile__isnull=True) | Q(profile__region__isnull=True)
    if path == WHOLE_NETWORK:
        return _triage_users().order_by("username")
    meets = Q(profile__region__path__in=ancestor_paths(path)) | Q(profile__region__path__startswith=path)
    return _triage_users().filter(whole | meets).order_by("username")


# -- triage -------------------------------------------------------------------------------------------------
ALERT_STATUS_FOR = {IncidentStatus.ACKNOWLEDGED: AlertStatus.ACKNOWLEDGED,
                    IncidentStatus.CONTAINED: AlertStatus.CONTAINED,
                    IncidentStatus.RESOLVED: AlertStatus.RESOLVED}


def change_status(incident: Incident, to_status: str, user=None, text: str = "", cascade: bool = True) -> Incident:
    """Move the incident (and, with `cascade`, its open alerts that can follow) to `to_status`; resolving closes
    its proposals. (Alerts are moved here, not through threat.services.alerts, which imports this module.)"""
    if to_status not in IncidentStatus.values:
        raise ThreatError("THREAT_STATUS_UNKNOWN", f"{to_status!r} is not an incident status; use one of "
                                                   f"{', '.join(IncidentStatus.values)}.")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        allowed = INCIDENT_TRANSITIONS[IncidentStatus(incident.status)]
        if to_status not in allowed:
            raise ThreatError("THREAT_TRANSITION_REFUSED",
                              f"incident #{incident.pk} ({incident.src}) is {incident.status} and cannot become "
                              f"{to_status}; allowed: {', '.join(sorted(allowed)) or 'none'}.")
        from_status, incident.status = incident.status, to_status
        incident.resolved_at = timezone.now() if to_status == IncidentStatus.RESOLVED else None
        incident.save(update_fields=["status", "resolved_at", "updated_at"])
        event(incident, IncidentEventKind.STATUS, text, user, from_status, to_status)
        if cascade:
            target = ALERT_STATUS_FOR[to_status]
            for alert in incident.alerts.filter(status__in=OPEN_STATUSES).exclude(status=target):
                if target in TRANSITIONS[AlertStatus(alert.status)]:
                    _alert_follows(alert, target, user, f"incident #{incident.pk}")
        if to_status == IncidentStatus.RESOLVED:  # its proposal not started yet is withdrawn (threat.apps)
            incident_resolved.send(sender=Incident, incident=incident, user=user)
    return incident


def _alert_follows(alert: Alert, to_status: str, user, text: str) -> None:
    """An alert of the incident takes its status, with its own timeline line (by the same person)."""
    from_status, alert.status = alert.status, to_status
    alert.save(update_fields=["status", "updated_at"])
    AlertEvent.objects.create(alert=alert, kind=EventKind.STATUS, text=text[:500], actor=user,
                              from_status=from_status, to_status=to_status)


def assign(incident: Incident, assignee, user=None) -> Incident:
    if assignee is not None and not assignable_users(incident).filter(pk=assignee.pk).exists():
        raise ThreatError("THREAT_ASSIGNEE_OUT_OF_SCOPE",
                          f"{assignee.get_username()} may not triage incident #{incident.pk} ({incident.src}): their "
                          "role or part of the network does not cover it; pick someone whose scope does.")
    with transaction.atomic():
        incident.assignee = assignee
        incident.save(update_fields=["assignee", "updated_at"])
        incident.alerts.filter(status__in=OPEN_STATUSES).update(assignee=assignee)
        event(incident, IncidentEventKind.ASSIGNED, assignee.get_username() if assignee else "", user)
    return incident


def bulk(user, incidents, action: str, assignee=None) -> tuple[list[int], list[str]]:
    """Apply one queue action to incidents the caller already scoped; returns (done ids, error sentences).

    Each incident is its own transaction: one that cannot move (already resolved, an assignee who does not cover
    it) is reported and the others still are done.
    """
    if action not in BULK_ACTIONS:
        raise ThreatError("THREAT_ACTION_UNKNOWN", "unknown action; reload the page.")
    if action == "assign" and assignee is None:
        raise ThreatError("THREAT_ASSIGNEE_MISSING", "choose the user to assign the incidents to.")
    done, errors = [], []
    for incident in incidents:
        try:
            if action == "acknowledge":
                change_status(incident, IncidentStatus.ACKNOWLEDGED, user)
            elif action == "resolve":
                change_status(incident, IncidentStatus.RESOLVED, user)
            else:
                assign(incident, assignee, user)
        except ThreatError as error:
            errors.append(f"{error.code}: {error.message}")
            continue
        done.append(incident.pk)
    return done, errors
