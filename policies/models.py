"""Compliance results per device and rule, their history, and waivers.

`RuleResult` is the latest verdict of one rule on one device (unique per device and rule), with its evidence
(the config lines, with line numbers) and the remediation lines for the device's platform. A verdict that
changes writes a `RuleEvent`, so a rule that flips is visible. A `Waiver` excuses a failing rule for a device,
for a rule everywhere, or for a rule across a region, until it expires.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Device, Region
from policies.choices import Severity, Status


class RuleResult(models.Model):
    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="rule_results", verbose_name=_("device"))
    rule = models.CharField(_("rule"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    evidence = models.JSONField(_("evidence"), default=list)  # [[line number, line], ...]
    remediation = models.JSONField(_("remediation"), default=list)  # config-file lines for the platform
    config_version = models.ForeignKey("collectors.ConfigVersion", models.SET_NULL, null=True, blank=True,
                                       related_name="+")
    checked_at = models.DateTimeField(_("checked at"))
    since = models.DateTimeField(_("in this status since"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "rule"], name="rule_result_once")]
        indexes = [models.Index(fields=["rule", "status"])]
        verbose_name = _("rule result")
        verbose_name_plural = _("rule results")

    def __str__(self):
        return f"{self.device} {self.rule} {self.status}"


class RuleEvent(models.Model):
    """A rule's verdict on a device changed (pass → fail, fail → pass, ...): the compliance history."""

    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="rule_events", verbose_name=_("device"))
    rule = models.CharField(_("rule"), max_length=64)
    time = models.DateTimeField(_("time"), db_index=True)
    previous = models.CharField(_("previous status"), max_length=16, choices=Status.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    config_version = models.ForeignKey("collectors.ConfigVersion", models.SET_NULL, null=True, blank=True,
                                       related_name="+")

    class Meta:
        ordering = ["-time", "-pk"]
        verbose_name = _("rule event")
        verbose_name_plural = _("rule events")

    def __str__(self):
        return f"{self.device} {self.rule} {self.previous}→{self.status}"


class WaiverQuerySet(models.QuerySet):
    def active(self, at=None):
        return self.filter(expires_at__gt=at or timezone.now())

    def covering(self, device: Device, rule: str):
        """The active waivers that excuse `rule` on `device`."""
        path = device.site.region.path
        ancestors = [path[:i + 1] for i, ch in enumerate(path) if ch == "/"][1:]
        return self.active().filter(
            Q(device=device, rule__in=["", rule]) | Q(device__isnull=True, region__isnull=True, rule=rule)
            | Q(device__isnull=True, rule=rule, region__path__in=ancestors))


class Waiver(models.Model):
    """An accepted exception: `rule` on `device`; all rules on `device` (rule empty); `rule` everywhere; or `rule`
    across `region`'s subtree. Waived results count apart in scores and fail again when the waiver expires."""

    SCOPE_PATH = ("device__site__region__path", "region__path")

    rule = models.CharField(_("rule"), max_length=64, blank=True)
    device = models.ForeignKey(Device, models.CASCADE, null=True, blank=True, related_name="waivers",
                               verbose_name=_("device"))
    region = models.ForeignKey(Region, models.CASCADE, null=True, blank=True, related_name="waivers",
                               verbose_name=_("region"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("owner"))
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    objects = WaiverQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at"]
        constraints = [models.CheckConstraint(
            condition=Q(device__isnull=False) | ~Q(rule=""), name="waiver_names_a_device_or_a_rule"),
            models.CheckConstraint(condition=Q(device__isnull=True) | Q(region__isnull=True),
                                   name="waiver_device_or_region_not_both")]
        verbose_name = _("waiver")
        verbose_name_plural = _("waivers")

    def __str__(self):
        return f"{self.rule or '*'} on {self.device or self.region or 'all'} until {self.expires_at:%Y-%m-%d}"


class ScoreSnapshot(models.Model):
    """One day's compliance counts of a region's subtree, for the trend (DESIGN: a dashboard page in ≤ 300 ms).

    Written for the city, county and township levels (villages roll up into their township) by
    `policies.services.snapshot_scores`, hourly by celery beat: a day's row is that day's last state. The trend
    reads ~30 rows per series instead of replaying every RuleEvent of 45,000 results (and every waiver) at each
    page view; today's point comes live from the results themselves."""

    SCOPE_PATH = "region__path"

    date = models.DateField(_("date"))
    region = models.ForeignKey(Region, models.CASCADE, related_name="+", verbose_name=_("region"))
    passed = models.PositiveIntegerField(_("pass"), default=0)
    failed = models.PositiveIntegerField(_("fail"), default=0)  # errors included, waived failures not
    waived = models.PositiveIntegerField(_("waived"), default=0)
    not_applicable = models.PositiveIntegerField(_("not applicable"), default=0)
    devices = models.PositiveIntegerField(_("devices"), default=0)
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        ordering = ["date", "region"]
        constraints = [models.UniqueConstraint(fields=["date", "region"], name="score_snapshot_once_a_day")]
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")

    def __str__(self):
        return f"{self.region} {self.date} {self.score}"

    @property
    def score(self) -> float | None:
        judged = self.passed + self.failed
        return round(100 * self.passed / judged, 1) if judged else None
