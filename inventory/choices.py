"""Vocabularies of the inventory. Slugs are stable: other tools and files use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Platform(models.TextChoices):
    # netmiko's names; the key that picks drivers, parsers and rule variants everywhere.
    HUAWEI_VRP = "huawei_vrp", "Huawei VRP"
    HP_COMWARE = "hp_comware", "H3C Comware"
    CISCO_IOS = "cisco_ios", "Cisco IOS"
    RUIJIE_OS = "ruijie_os", "Ruijie RGOS"


class RegionLevel(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", _("County/district")
    TOWNSHIP = "township", _("Township/street")
    VILLAGE = "village", _("Village/community")


# Each level's allowed parent level; the tree is city → county → township → village.
PARENT_LEVEL = {"city": None, "county": "city", "township": "county", "village": "township"}


class DeviceRole(models.TextChoices):
    CORE = "core", _("Core")
    AGGREGATION = "aggregation", _("Aggregation")
    ACCESS = "access", _("Access")
    CPE = "cpe", _("CPE")
    EGRESS = "egress", _("Egress")
    FIREWALL = "firewall", _("Firewall")


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("device status", "Active")  # in service (a waiver's "Active" is another word)
    PLANNED = "planned", _("Planned")
    DECOMMISSIONED = "decommissioned", _("Decommissioned")


class LinkTier(models.TextChoices):
    PROVINCE_CITY = "province-city", _("Province–city")
    CITY_CORE = "city-core", _("City core")  # the city cores to each other and to the egress
    CITY_COUNTY = "city-county", _("City–county")
    COUNTY_TOWNSHIP = "county-township", _("County–township")
    TOWNSHIP_VILLAGE = "township-village", _("Township–village")
    AGENCY = "agency", _("Agency")
    INTERNET = "internet", _("Internet")


class CredentialKind(models.TextChoices):
    SSH = "ssh", "SSH"
    SNMP = "snmp", "SNMP"


class Role(models.TextChoices):
    ENGINEER = "engineer", _("Network engineer")
    SECURITY = "security", _("Security analyst")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")
