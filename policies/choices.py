"""Vocabularies of compliance. Slugs are stable: `compliance check --json`, exports and scores use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    ERROR = "error", _("Error")  # the config could not be checked (unparseable): one per device, alone


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
