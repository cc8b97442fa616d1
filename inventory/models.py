"""The extranet inventory: who owns what, where it is, and what it is connected to.

Every object hangs off the administrative Region tree. `Region.path` ("/city/nanjiang/nanjiang-t01/")
makes "this county's subtree" a prefix filter; `SCOPE_PATH` on each model names the lookup
that reaches a region path, so web.access can scope any query to a user's part of the tree.
"""

import ipaddress

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.choices import CredentialKind, DeviceRole, DeviceStatus, LinkTier, Platform, RegionLevel


class Region(models.Model):
    SCOPE_PATH = "path"

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    path = models.CharField(max_length=400, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + self.slug + "/"

    def ancestors(self):
        """Regions from the root down to this one (for breadcrumbs)."""
        slugs = [s for s in self.path.strip("/").split("/") if s]
        by_slug = {r.slug: r for r in Region.objects.filter(slug__in=slugs)}
        return [by_slug[s] for s in slugs if s in by_slug]


class Agency(models.Model):
    SCOPE_PATH = "region__path"

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(Region, models.PROTECT, related_name="agencies", verbose_name=_("region"))

    class Meta:
        ordering = ["region__path", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self):
        return self.name


class Site(models.Model):
    SCOPE_PATH = "region__path"

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(Region, models.PROTECT, related_name="sites", verbose_name=_("region"))
    agency = models.ForeignKey(Agency, models.PROTECT, null=True, blank=True, related_name="sites",
                               verbose_name=_("agency"))
    expected = models.BooleanField(_("expected on the extranet"), default=True)

    class Meta:
        ordering = ["region__path", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return self.name


class Credential(models.Model):
    """An SSH login or SNMP community. The secret is encrypted at rest and never rendered."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=CredentialKind.choices)
    username = models.CharField(_("username"), max_length=64, blank=True)  # the SNMPv3 user for snmp v3
    # SNMP only: 2c uses the secret as community; 3 uses it as the USM auth passphrase (SHA, authNoPriv).
    snmp_version = models.CharField(_("SNMP version"), max_length=2, choices=[("2c", "v2c"), ("3", "v3")],
                                    default="2c")
    secret_encrypted = models.BinaryField(editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

    def __str__(self):
        return f"{self.name} ({self.kind})"

    @staticmethod
    def _fernet() -> Fernet:
        return Fernet(settings.CREDENTIAL_KEY)

    @property
    def secret(self) -> str:
        try:
            return self._fernet().decrypt(bytes(self.secret_encrypted)).decode()
        except InvalidToken:
            raise ValueError(f"credential {self.name!r} cannot be decrypted with ONENET_CREDENTIAL_KEY; "
                             "was the key changed?") from None

    @secret.setter
    def secret(self, value: str):
        self.secret_encrypted = self._fernet().encrypt(value.encode())

    def has_secret(self, value: str) -> bool:
        return bool(self.secret_encrypted) and self.secret == value


class Device(models.Model):
    SCOPE_PATH = "site__region__path"

    name = models.CharField(_("name"), max_length=80, unique=True)
    address = models.GenericIPAddressField(_("management address"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    role = models.CharField(_("role"), max_length=16, choices=DeviceRole.choices)
    site = models.ForeignKey(Site, models.PROTECT, related_name="devices", verbose_name=_("site"))
    status = models.CharField(_("status"), max_length=16, choices=DeviceStatus.choices,
                              default=DeviceStatus.ACTIVE)
    vendor = models.CharField(_("vendor"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    os_version = models.CharField(_("OS version"), max_length=60, blank=True)
    snmp_credential = models.ForeignKey(Credential, models.PROTECT, null=True, blank=True, related_name="+",
                                        verbose_name=_("SNMP profile"), limit_choices_to={"kind": "snmp"})
    ssh_credential = models.ForeignKey(Credential, models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("SSH credential"), limit_choices_to={"kind": "ssh"})
    snmp_port = models.PositiveIntegerField(_("SNMP port"), default=161)
    ssh_port = models.PositiveIntegerField(_("SSH port"), default=22)
    # What is expected of the device: the collectors and coverage report measure against these.
    expect_polling = models.BooleanField(_("expected to answer SNMP"), default=True)
    expect_backup = models.BooleanField(_("expected to be backed up"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [models.Index(fields=["platform"]), models.Index(fields=["role"])]

    def __str__(self):
        return self.name


class Interface(models.Model):
    SCOPE_PATH = "device__site__region__path"

    device = models.ForeignKey(Device, models.CASCADE, related_name="interfaces", verbose_name=_("device"))
    name = models.CharField(_("name"), max_length=64)
    if_index = models.PositiveIntegerField(_("ifIndex"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    speed_bps = models.BigIntegerField(_("speed (bit/s)"), default=0)

    class Meta:
        ordering = ["device__name", "if_index", "name"]
        constraints = [models.UniqueConstraint(fields=["device", "name"], name="interface_unique_name")]
        verbose_name = _("interface")
        verbose_name_plural = _("interfaces")

    def __str__(self):
        return f"{self.device.name} {self.name}"


class Link(models.Model):
    # A link is in a user's scope when either end is.
    SCOPE_PATH = ("a_interface__device__site__region__path", "b_interface__device__site__region__path")

    a_interface = models.ForeignKey(Interface, models.CASCADE, related_name="links_as_a", verbose_name=_("A end"))
    b_interface = models.ForeignKey(Interface, models.CASCADE, related_name="links_as_b", verbose_name=_("B end"))
    capacity_bps = models.BigIntegerField(_("capacity (bit/s)"))
    tier = models.CharField(_("tier"), max_length=20, choices=LinkTier.choices)

    class Meta:
        ordering = ["tier", "id"]
        constraints = [models.UniqueConstraint(fields=["a_interface", "b_interface"], name="link_unique_ends")]
        verbose_name = _("link")
        verbose_name_plural = _("links")

    def __str__(self):
        return f"{self.a_interface} ↔ {self.b_interface}"


class PrefixQuerySet(models.QuerySet):
    def containing(self, address: str):
        """Prefixes that contain the address, most specific first (longest-prefix match)."""
        ip = ipaddress.ip_address(address)
        return self.filter(family=ip.version, first__lte=int(ip), last__gte=int(ip)).order_by("-length")

    def longest_match(self, address: str):
        return self.containing(address).select_related("agency", "site", "region").first()


class Prefix(models.Model):
    SCOPE_PATH = "region__path"

    prefix = models.CharField(_("prefix"), max_length=49, unique=True)
    family = models.PositiveSmallIntegerField(editable=False)
    length = models.PositiveSmallIntegerField(editable=False)
    # Integer bounds make the longest-prefix look-up one indexed range query (IPv6 needs 128 bits).
    first = models.DecimalField(max_digits=39, decimal_places=0, editable=False)
    last = models.DecimalField(max_digits=39, decimal_places=0, editable=False)
    agency = models.ForeignKey(Agency, models.PROTECT, null=True, blank=True, related_name="prefixes",
                               verbose_name=_("agency"))
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="prefixes",
                             verbose_name=_("site"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="prefixes", verbose_name=_("region"))
    description = models.CharField(_("description"), max_length=200, blank=True)

    objects = PrefixQuerySet.as_manager()

    class Meta:
        ordering = ["family", "first", "length"]
        indexes = [models.Index(fields=["family", "first", "last"])]
        verbose_name = _("prefix")
        verbose_name_plural = _("prefixes")

    def __str__(self):
        return self.prefix

    def save(self, *args, **kwargs):
        network = ipaddress.ip_network(self.prefix, strict=True)
        self.prefix = str(network)
        self.family, self.length = network.version, network.prefixlen
        self.first, self.last = int(network.network_address), int(network.broadcast_address)
        super().save(*args, **kwargs)


def scope_filter(model, region_path: str) -> Q:
    """The filter that keeps `model` rows inside the subtree at `region_path`."""
    paths = model.SCOPE_PATH if isinstance(model.SCOPE_PATH, tuple) else (model.SCOPE_PATH,)
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{path}__startswith": region_path})
    return condition
