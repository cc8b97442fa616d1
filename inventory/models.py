"""The extranet inventory: who owns what, where it is, and what it is connected to.

Every object hangs off the administrative Region tree. `Region.path` ("/city/nanjiang/nanjiang-t01/")
makes "this county's subtree" a prefix filter; `SCOPE_PATH` on each model names the lookup
that reaches a region path, so web.access can scope any query to a user's part of the tree.
"""

import ipaddress
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from inventory.choices import PARENT_LEVEL, CredentialKind, DeviceRole, DeviceStatus, LinkTier, Platform, RegionLevel

# Integer ranges of the inventory, shared by the model validators and `inventory import`.
PORT_RANGE = (1, 65535)  # TCP/UDP
IF_INDEX_RANGE = (1, 2147483647)  # SNMP InterfaceIndex
BIT_RATE_MAX = 4294967295 * 10**6  # ifHighSpeed (a Gauge32 in Mbit/s) in bit/s; fits a BigIntegerField

# Region slugs become segments of the materialised path that scope is a prefix filter on: a "/" would nest one
# region inside another's scope, and capitals would too where LIKE ignores case (SQLite). One rule for every slug.
SLUG_PATTERN = r"^[-a-z0-9_]+\Z"
validate_lowercase_slug = RegexValidator(
    SLUG_PATTERN, _("Enter a slug of lowercase letters, digits, hyphens or underscores."), code="invalid")


class Region(models.Model):
    SCOPE_PATH = "path"

    slug = models.SlugField(_("slug"), max_length=64, unique=True, validators=[validate_lowercase_slug])
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
        validate_lowercase_slug(self.slug)  # also for ORM saves: the slug is part of every descendant's path
        with transaction.atomic():
            old_path = self._stored_path()
            self.path = self.compute_path()
            if old_path and self.path.startswith(old_path) and self.path != old_path:
                raise ValidationError("REGION_CYCLE: a region cannot be moved under its own subtree.")
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                move_region_paths(old_path, self.path)

    def clean(self):
        """The admin's check of a move: no cycle, and the parent one level up (city → county → township → village)."""
        old_path = self._stored_path()
        if self.parent_id and old_path and self.parent.path.startswith(old_path):
            raise ValidationError({"parent": ValidationError(
                _("A region cannot be moved under itself or one of its own sub-regions."), code="region_cycle")})
        if self.level not in PARENT_LEVEL:
            return  # an unknown level is the level field's own error
        expected, actual = PARENT_LEVEL[self.level], self.parent.level if self.parent_id else None
        if expected != actual:
            message = (_("A region of this level has no parent.") if expected is None else
                       _("A region of this level needs a parent of level “%(level)s”.")
                       % {"level": RegionLevel(expected).label})
            raise ValidationError({"parent": ValidationError(message, code="region_level")})

    def _stored_path(self) -> str | None:
        return Region.objects.filter(pk=self.pk).values_list("path", flat=True).first() if self.pk else None

    def compute_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + self.slug + "/"

    def ancestors(self):
        """Regions from the root down to this one (for breadcrumbs)."""
        slugs = [s for s in self.path.strip("/").split("/") if s]
        by_slug = {r.slug: r for r in Region.objects.filter(slug__in=slugs)}
        return [by_slug[s] for s in slugs if s in by_slug]


def move_region_paths(old_path: str, new_path: str) -> int:
    """Give every region under `old_path` the same place under `new_path`, in one UPDATE.

    The one way a region's subtree moves (Region.save for the admin and the ORM, and `inventory import`):
    descendants left on the old path would stay in the old county's scope. Call it inside the transaction that
    moves the region. The prefix is compared exactly (not with LIKE, which ignores case on SQLite)."""
    under_old_path = Exact(Substr("path", 1, len(old_path)), Value(old_path))
    return Region.objects.filter(under_old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=models.CharField()))


class Agency(models.Model):
    SCOPE_PATH = "region__path"

    slug = models.SlugField(_("slug"), max_length=64, unique=True, validators=[validate_lowercase_slug])
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

    slug = models.SlugField(_("slug"), max_length=80, unique=True, validators=[validate_lowercase_slug])
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
        if settings.CREDENTIAL_KEY is None:
            # No key at all (embedded mode before `manage.py init`): CREDENTIAL_KEY_MISSING, never a ValueError,
            # which callers read as this one credential being unreadable.
            from web.config import credential_key_missing

            raise credential_key_missing()
        return Fernet(settings.CREDENTIAL_KEY)

    @property
    def secret(self) -> str:
        try:
            return self._fernet().decrypt(bytes(self.secret_encrypted or b"")).decode()
        except InvalidToken:
            raise ValueError(f"credential {self.name!r} cannot be decrypted with ONENET_CREDENTIAL_KEY; "
                             "was the key changed?") from None

    @secret.setter
    def secret(self, value: str):
        self.secret_encrypted = self._fernet().encrypt(value.encode())

    def has_secret(self, value: str) -> bool:
        """Whether the stored secret is `value`; one that cannot be decrypted is not (an import then replaces it)."""
        try:
            return bool(self.secret_encrypted) and self.secret == value
        except ValueError:
            return False


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
    snmp_port = models.PositiveIntegerField(_("SNMP port"), default=161, validators=[
        MinValueValidator(PORT_RANGE[0]), MaxValueValidator(PORT_RANGE[1])])
    ssh_port = models.PositiveIntegerField(_("SSH port"), default=22, validators=[
        MinValueValidator(PORT_RANGE[0]), MaxValueValidator(PORT_RANGE[1])])
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


class HostKeySource(models.TextChoices):
    FIRST_USE = "first_use", _("Trusted on first use")
    INVENTORY = "inventory", _("Imported with the inventory")
    ACCEPTED = "accepted", _("Accepted by an engineer")


class SshHostKey(models.Model):
    """The SSH host key pinned for a device: a password is only ever sent to a server holding this key.

    A device that offers another key is refused (SSH_HOSTKEY_CHANGED); the offered key waits here until an
    engineer reviews and accepts it."""

    SCOPE_PATH = "device__site__region__path"

    device = models.OneToOneField(Device, models.CASCADE, related_name="ssh_host_key", verbose_name=_("device"))
    # The pinned key as an OpenSSH public key line ("ssh-ed25519 AAAA…"); empty while nothing is pinned and a
    # first key waits for review (ONENET_SSH_TRUST_FIRST_USE off).
    key = models.TextField(_("host key"), blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=100, blank=True)  # "SHA256:…" as ssh-keygen -l
    source = models.CharField(_("source"), max_length=16, choices=HostKeySource.choices, blank=True)
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    pinned_by = models.CharField(_("pinned by"), max_length=150, blank=True)
    offered_key = models.TextField(_("offered key"), blank=True)
    offered_fingerprint = models.CharField(_("offered fingerprint"), max_length=100, blank=True)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SSH host key")
        verbose_name_plural = _("SSH host keys")

    def __str__(self):
        return f"{self.device} {self.fingerprint}"


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


# -- links: their tier and which way is "down" ------------------------------------------------------------------------
# How far from the internet a device sits by its role: the egress is the city's way out, CPEs and access switches and
# routers are the leaves. With the depth of its region in the tree (city 1 … village 4) it orders a link's ends.
ROLE_DISTANCE = {"egress": 0, "core": 1, "aggregation": 2, "firewall": 3, "cpe": 3, "access": 4}
CITY_SIDE_ROLES = ("egress", "firewall")  # on an internet link, the city's own end
# Links that leave the city: the far end is the ISP's or the province's router, whose role in the inventory ("core")
# tells nothing, so the inventory file's tier stands.
OUTWARD_TIERS = (LinkTier.INTERNET, LinkTier.PROVINCE_CITY)


@dataclass(frozen=True)
class LinkEnd:
    """What decides a link end's place: its device's role and its region's path."""

    role: str
    region_path: str

    @property
    def depth(self) -> int:
        return len([part for part in self.region_path.split("/") if part])

    @property
    def distance(self) -> tuple[int, int]:
        return self.depth, ROLE_DISTANCE.get(self.role, len(ROLE_DISTANCE))

    @classmethod
    def of(cls, interface: Interface) -> "LinkEnd":
        return cls(interface.device.role, interface.device.site.region.path)


def downstream_end(tier: str, a: LinkEnd, b: LinkEnd) -> str:
    """"a" or "b": the end "down" traffic flows to. Directions are the city's (DESIGN "The console"): down is into
    the city, from the internet and from the province, and on towards the village. On an internet link that is the
    city's end (the egress); elsewhere the end deeper in the tree, then the one further from the internet by role;
    when nothing tells the ends apart, B (the inventory writes a link's parent end as A)."""
    if tier == LinkTier.INTERNET:
        a_city, b_city = a.role in CITY_SIDE_ROLES, b.role in CITY_SIDE_ROLES
        return "a" if a_city and not b_city else "b"
    return "a" if a.distance > b.distance else "b"


def link_tier(declared: str, a: LinkEnd, b: LinkEnd) -> str:
    """The tier of a link from the roles at both ends (and the depth of their regions): the cores and the egress are
    the city core, a core to a county's aggregation router is city–county, an aggregation router to a township's
    router county–township, a township to a village township–village. The declared tier (the inventory file's)
    stands for the links that leave the city (OUTWARD_TIERS) and where the roles name no tier (agencies' links)."""
    if declared in OUTWARD_TIERS:
        return declared
    upper, lower = (b, a) if downstream_end(declared, a, b) == "a" else (a, b)
    if {upper.role, lower.role} <= {"core", "egress"}:
        return LinkTier.CITY_CORE
    if (upper.role, lower.role) == ("core", "aggregation"):
        return LinkTier.CITY_COUNTY
    if (upper.role, lower.role, lower.depth) == ("aggregation", "access", 3):
        return LinkTier.COUNTY_TOWNSHIP
    if (upper.depth, lower.depth) == (3, 4):
        return LinkTier.TOWNSHIP_VILLAGE
    return declared


class LinkDirections:
    """The ends of a link by direction, from its `downstream_end` ("a" or "b"): for Link and for the bandwidth pages'
    snapshot of one (collectors.services.link_facts)."""

    __slots__ = ()

    @property
    def downstream_interface(self):
        """The end "down" traffic flows to: it receives down and sends up."""
        return self.a_interface if self.downstream_end == "a" else self.b_interface

    @property
    def upstream_interface(self):
        return self.b_interface if self.downstream_end == "a" else self.a_interface


class Link(LinkDirections, models.Model):
    """A link between two interfaces. Which end is which does not matter for its directions: `downstream_end` says
    where "down" goes, from the roles at both ends (load both ends' device and region to ask)."""

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

    @property
    def downstream_end(self) -> str:
        return downstream_end(self.tier, LinkEnd.of(self.a_interface), LinkEnd.of(self.b_interface))



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
