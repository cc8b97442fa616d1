"""Vocabularies of the threat app. Slugs are stable: `threat scan --json`, exports and metrics use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    # DESIGN's fixed vocabulary ("add kinds, don't rename"); `suricata` holds EVE alerts no kind here covers.
    ETERNALBLUE = "eternalblue", "EternalBlue"
    DOUBLEPULSAR = "doublepulsar", "DoublePulsar"
    MS17_010 = "ms17-010", "MS17-010"
    SMB_SCAN = "smb-scan", _("445 scan")
    WANNACRY_KILLSWITCH = "wannacry-killswitch", _("WannaCry kill switch")
    SMBV1 = "smbv1", "SMBv1"
    SURICATA = "suricata", _("Suricata alert")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


class AlertStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CONTAINED = "contained", _("Contained")
    RESOLVED = "resolved", _("Resolved")
    FALSE_POSITIVE = "false_positive", _("False positive")


# new → acknowledged → contained → resolved; any open alert may be resolved or called a false positive.
# A closed alert can be reopened (back to acknowledged) when someone finds it was closed by mistake.
TRANSITIONS = {
    AlertStatus.NEW: {AlertStatus.ACKNOWLEDGED, AlertStatus.CONTAINED, AlertStatus.RESOLVED,
                      AlertStatus.FALSE_POSITIVE},
    AlertStatus.ACKNOWLEDGED: {AlertStatus.CONTAINED, AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE},
    AlertStatus.CONTAINED: {AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE},
    AlertStatus.RESOLVED: {AlertStatus.ACKNOWLEDGED},
    AlertStatus.FALSE_POSITIVE: {AlertStatus.ACKNOWLEDGED},
}
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.CONTAINED)


class AlertSource(models.TextChoices):
    PCAP = "pcap", _("Capture file")
    SENSOR = "sensor", _("Live sensor")
    SURICATA_EVE = "suricata-eve", "Suricata EVE"


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Seen again")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Note")
    LOCATED = "located", _("Located")
    CONTAINMENT = "containment", _("Containment change")


class ContainmentKind(models.TextChoices):
    SHUTDOWN_PORT = "shutdown-port", _("Shut the access port")
    ACL_BLOCK_HOST = "acl-block-host", _("Block the host with an ACL")


class IncidentStatus(models.TextChoices):
    # One incident per infected host: open (nobody on it yet) → acknowledged → contained → resolved.
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CONTAINED = "contained", _("Contained")
    RESOLVED = "resolved", _("Resolved")


# An incident in one of these is "open" in the queue's sense: the host still needs someone.
INCIDENT_OPEN = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.CONTAINED)
INCIDENT_TRANSITIONS = {
    IncidentStatus.OPEN: {IncidentStatus.ACKNOWLEDGED, IncidentStatus.CONTAINED, IncidentStatus.RESOLVED},
    IncidentStatus.ACKNOWLEDGED: {IncidentStatus.CONTAINED, IncidentStatus.RESOLVED},
    IncidentStatus.CONTAINED: {IncidentStatus.RESOLVED},
    IncidentStatus.RESOLVED: set(),  # new traffic from the host opens a new incident
}


class IncidentEventKind(models.TextChoices):
    OPENED = "opened", _("Incident opened")
    ALERT = "alert", _("Alert added")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    PROPOSAL = "proposal", _("Containment proposal")


class ProposalState(models.TextChoices):
    """A containment proposal, as its change request and the switch's backups show it."""

    PROPOSED = "proposed", _("Proposed")  # the change's dry run is running or awaits approval
    APPROVED = "approved", _("Approved")  # approved, waiting to run or being pushed
    APPLIED = "applied", _("Applied")  # the change completed: the switch has the lines
    VERIFIED = "verified", _("Verified by a backup")  # a backup after the change shows the lines
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed (rolled back)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# At most one proposal per incident in these (a unique index): the one in flight.
ACTIVE_PROPOSAL = (ProposalState.PROPOSED, ProposalState.APPROVED, ProposalState.APPLIED)


# Roles that may triage (change status, assign, note, write a containment change); managers only read.
TRIAGE_ROLES = frozenset({"security", "admin", "engineer"})
