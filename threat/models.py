"""Alerts and their triage: what was seen, where the host sits, who is on it, and how to contain it.

An alert belongs to the region of the prefix its source address falls in (the city root when no prefix
matches), so `web.access.scoped()` shows a county user only the alerts of their county.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from threat.choices import (
    AlertKind,
    AlertSource,
    AlertStatus,
    EventKind,
    Severity,
)


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


class AlertEvent(models.Model):
    """The alert's timeline: created, seen again, status changes, assignment, notes, containment."""

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="events", verbose_name=_("alert"))
    time = models.DateTimeField(_("time"), auto_now_add=True)
    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("by"))
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    text = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        ordering = ["time", "pk"]

    def __str__(self):
        return f"{self.kind} {self.text[:40]}"
