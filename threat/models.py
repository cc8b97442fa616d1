"""Alerts and their triage: what was seen, where the host sits, who is on it, and how to contain it.

An alert belongs to the region of the prefix its source address falls in (the city root when no prefix
matches), so `web.access.scoped()` shows a county user only the alerts of their county.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from threat.choices import (
    ACTIVE_PROPOSAL,
    INCIDENT_OPEN,
    AlertKind,
    AlertSource,
    AlertStatus,
    ContainmentKind,
    EventKind,
    IncidentEventKind,
    IncidentStatus,
    ProposalState,
    Severity,
)


class Styled(str):
    """A table cell's text with a CSS class (the queue colours severities); exports see the plain text."""

    css = ""

    def __new__(cls, text, css: str = ""):
        cell = super().__new__(cls, text)
        cell.css = css
        return cell


class Incident(models.Model):
    """One infected host (a source address in its region): all its alerts, of every kind and towards every target.

    The aggregates (severity, first/last seen, alert count, kinds, location) are kept by
    `threat.services.incidents.refresh` whenever an alert joins or changes, so the queue sorts and filters on
    columns. At most one incident per address is not resolved (a unique index); traffic after resolution opens a
    new one.
    """

    SCOPE_PATH = "region__path"

    src = models.GenericIPAddressField(_("source address"))
    status = models.CharField(_("status"), max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN,
                              db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("assignee"))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.LOW)
    severity_rank = models.PositiveSmallIntegerField(default=1, editable=False, db_index=True)
    kinds = models.CharField(_("kinds"), max_length=200, blank=True)  # its alerts' kinds, space-separated slugs
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    received_at = models.DateTimeField(pgettext_lazy("alert time", "Received"), default=timezone.now, db_index=True)
    region = models.ForeignKey("inventory.Region", models.PROTECT, null=True, blank=True, related_name="incidents",
                               verbose_name=_("region"))
    county = models.ForeignKey("inventory.Region", models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("county/district"))
    agency = models.ForeignKey("inventory.Agency", models.SET_NULL, null=True, blank=True, related_name="incidents",
                               verbose_name=_("agency"))
    site = models.ForeignKey("inventory.Site", models.SET_NULL, null=True, blank=True, related_name="incidents",
                             verbose_name=_("site"))
    mac = models.CharField(_("MAC"), max_length=17, blank=True)
    switch = models.ForeignKey("inventory.Device", models.SET_NULL, null=True, blank=True, related_name="incidents",
                               verbose_name=_("switch"))
    switch_port = models.CharField(_("port"), max_length=64, blank=True)
    # The state of its newest containment proposal (blank: none), kept by threat.services.proposals for the queue.
    containment = models.CharField(_("containment"), max_length=16, choices=ProposalState.choices, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-severity_rank", "-last_seen", "-pk"]
        constraints = [models.UniqueConstraint(fields=["src"], condition=Q(status__in=[s.value for s in INCIDENT_OPEN]),
                                               name="one_open_incident_per_source")]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self):
        return f"{self.src} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in INCIDENT_OPEN

    def kind_list(self) -> list[str]:
        return [k for k in self.kinds.split() if k]

    def kinds_display(self) -> str:
        labels = dict(AlertKind.choices)
        return ", ".join(str(labels.get(k, k)) for k in self.kind_list())

    def severity_cell(self) -> Styled:
        return Styled(self.get_severity_display(), f"severity severity-{self.severity}")

    def containment_cell(self) -> Styled:
        return Styled(self.get_containment_display() if self.containment else "",
                      f"containment containment-{self.containment}" if self.containment else "")

    def county_display(self) -> str:
        """Its county or district; the city-level agencies (市直单位) are a row of their own, not the whole city."""
        if self.county_id:
            return self.county.name
        return str(_("City-level agencies and sites")) if self.region_id else ""

    def location_display(self) -> str:
        parts = [self.site.name if self.site_id else "", self.switch.name if self.switch_id else "", self.switch_port]
        return " / ".join(p for p in parts if p)

    def age(self) -> str:
        """How long the host has been infected: since it was first seen (the packets' own time)."""
        return timesince(self.first_seen)


class TimelineEvent(models.Model):
    """One line of a timeline (an alert's, an incident's): when, what kind, by whom, from which status to which."""

    time = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("by"))
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    text = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        abstract = True
        ordering = ["time", "pk"]

    def __str__(self):
        return f"{self.kind} {self.text[:40]}"


class IncidentEvent(TimelineEvent):
    """The incident's own timeline: opened, alerts joining, status, assignment, containment proposals."""

    incident = models.ForeignKey(Incident, models.CASCADE, related_name="events", verbose_name=_("incident"))
    kind = models.CharField(_("event"), max_length=16, choices=IncidentEventKind.choices)

    class Meta(TimelineEvent.Meta):
        pass

    def _label(self, value: str) -> str:
        choices = ProposalState if self.kind == IncidentEventKind.PROPOSAL else IncidentStatus
        return str(dict(choices.choices).get(value, value))

    def from_display(self) -> str:
        return self._label(self.from_status) if self.from_status else ""

    def to_display(self) -> str:
        return self._label(self.to_status) if self.to_status else ""


class Alert(models.Model):
    SCOPE_PATH = "region__path"

    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices, db_index=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField(default=1, editable=False)  # for "most severe first"
    source = models.CharField(_("source"), max_length=16, choices=AlertSource.choices)
    signature = models.CharField(_("signature"), max_length=255, blank=True)  # Suricata's, for EVE alerts
    src = models.GenericIPAddressField(_("source address"))
    dst = models.GenericIPAddressField(_("destination address"), null=True, blank=True)
    dport = models.PositiveIntegerField(_("destination port"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)
    # When OneNet first received it (its first ingest), apart from when it happened (first/last seen, the packets'
    # own timestamps): an old capture fed in today is news today, and the queue lists it first.
    received_at = models.DateTimeField(pgettext_lazy("alert time", "Received"), default=timezone.now, db_index=True)
    count = models.PositiveIntegerField(_("count"), default=1)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.NEW,
                              db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("assignee"))
    # Where the source host is: prefix → region/agency/site; ARP → MAC; MAC table → access switch and port.
    # The city root when no prefix matches (only city-wide users see it); null only with no inventory at all.
    region = models.ForeignKey("inventory.Region", models.PROTECT, null=True, blank=True, related_name="alerts",
                               verbose_name=_("region"))
    # The infected host's incident (every alert from its address while it is open).
    incident = models.ForeignKey(Incident, models.SET_NULL, null=True, blank=True, related_name="alerts",
                                 verbose_name=_("incident"))
    agency = models.ForeignKey("inventory.Agency", models.SET_NULL, null=True, blank=True, related_name="alerts",
                               verbose_name=_("agency"))
    site = models.ForeignKey("inventory.Site", models.SET_NULL, null=True, blank=True, related_name="alerts",
                             verbose_name=_("site"))
    mac = models.CharField(_("MAC"), max_length=17, blank=True)
    switch = models.ForeignKey("inventory.Device", models.SET_NULL, null=True, blank=True, related_name="alerts",
                               verbose_name=_("switch"))
    switch_port = models.CharField(_("port"), max_length=64, blank=True)
    located_at = models.DateTimeField(_("located at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-severity_rank", "-last_seen", "-pk"]
        indexes = [models.Index(fields=["kind", "src", "status"])]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self):
        return f"{self.kind} {self.src}"

    @property
    def is_open(self) -> bool:
        return self.status in (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.CONTAINED)


class AlertFingerprint(models.Model):
    """An engine alert (kind, src, dst, dport, first_seen) already ingested, and the count it had then.

    Re-scanning a file finds the same fingerprints and adds nothing; a live sensor re-flushing a growing
    alert adds only the difference.
    """

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="fingerprints")
    digest = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.alert_id} {self.digest[:12]}"


class AlertNote(models.Model):
    alert = models.ForeignKey(Alert, models.CASCADE, related_name="notes", verbose_name=_("alert"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    text = models.TextField(_("text"), max_length=4000)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:40]


class AlertEvent(TimelineEvent):
    """The alert's timeline: created, seen again, status changes, assignment, notes, containment."""

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="events", verbose_name=_("alert"))
    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)

    class Meta(TimelineEvent.Meta):
        pass


class ContainmentProposal(models.Model):
    """A containment of an incident's host, from its proposal until the change pipeline has it done and a backup
    shows it: proposed → approved → applied → verified, or rejected / failed / withdrawn.

    The state is derived from the change request the proposal created and the switch's backups
    (threat.services.proposals.sync), and stored so the queue can show it; at most one proposal per incident is
    active (a unique index).
    """

    incident = models.ForeignKey(Incident, models.CASCADE, related_name="proposals", verbose_name=_("incident"))
    alert = models.ForeignKey(Alert, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("alert"))
    change = models.OneToOneField("changes.ChangeRequest", models.SET_NULL, null=True, blank=True,
                                  related_name="proposal", verbose_name=_("change"))
    kind = models.CharField(_("containment"), max_length=16, choices=ContainmentKind.choices)
    state = models.CharField(_("state"), max_length=16, choices=ProposalState.choices,
                             default=ProposalState.PROPOSED, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("proposed by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["incident"],
                                               condition=Q(state__in=[s.value for s in ACTIVE_PROPOSAL]),
                                               name="one_active_proposal_per_incident")]
        verbose_name = _("containment proposal")
        verbose_name_plural = _("containment proposals")

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_PROPOSAL
