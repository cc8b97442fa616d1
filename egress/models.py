"""What `egress verify` found: the latest verdict of each egress.* rule on each device's latest stored config.

The policy itself is a file (egress/policy.yaml, read by egress.services.policy), not a model: nothing edits it
in the console. The results are kept so the console shows them without reading thousands of configs per page.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from collectors.models import ConfigVersion
from egress.choices import Rule, Status
from inventory.models import Device


class EgressResult(models.Model):
    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="egress_results", verbose_name=_("device"))
    rule = models.CharField(_("rule"), max_length=64, choices=Rule.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, db_index=True)
    message = models.TextField(_("message"), blank=True)
    evidence = models.JSONField(default=list)  # [[line number, line], ...] in the config version checked
    remediation = models.JSONField(default=list)  # config-file lines for the device's platform
    details = models.JSONField(default=list)  # one dict per port and direction checked, or per route and NAT
    config_version = models.ForeignKey(ConfigVersion, models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name=_("config version"))
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        ordering = ["device__name", "rule"]
        constraints = [models.UniqueConstraint(fields=["device", "rule"], name="egress_result_once")]
        verbose_name = _("egress result")
        verbose_name_plural = _("egress results")

    def __str__(self):
        return f"{self.device} {self.rule} {self.status}"
