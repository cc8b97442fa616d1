"""Vocabularies of the egress verification. Slugs are stable: `egress verify --json` and exports use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    ERROR = "error", _("Error")  # the config could not be read: one result for the device, alone


class Rule(models.TextChoices):
    # DESIGN, "Baseline compliance rule ids"; CONFIG_READABLE carries an unreadable config's one error.
    SMB_BLOCKED = "egress.smb-blocked", _("SMB/NetBIOS blocked both ways")
    NO_ROGUE_DEFAULT_ROUTE = "egress.no-rogue-default-route", _("No rogue default route")
    NO_ROGUE_NAT = "egress.no-rogue-nat", _("No rogue NAT")
    CONFIG_READABLE = "config.parse", _("The config can be read")
