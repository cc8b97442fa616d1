"""A link as the bandwidth pages and the Overview read it: a snapshot from one values() query.

A city has about 3,000 links; loading them as model instances with both ends' interface, device, site and region
(nine instances a link) costs ten times the query itself, and every figure of those pages needs only the names,
roles and region paths below. The snapshot answers the same attribute paths as a Link (`link.a_interface.device
.site.region.path`, `link.get_tier_display()`, `link.downstream_interface`), so templates read either.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.choices import LinkTier
from inventory.models import Link, LinkDirections, LinkEnd, downstream_end

TIER_LABELS = dict(LinkTier.choices)


@dataclass(frozen=True, slots=True)
class RegionFacts:
    name: str
    slug: str
    path: str


@dataclass(frozen=True, slots=True)
class SiteFacts:
    name: str
    region: RegionFacts


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    pk: int
    name: str
    role: str
    site: SiteFacts

    def __str__(self):
        return self.name


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    pk: int
    name: str
    device: DeviceFacts

    def __str__(self):
        return f"{self.device.name} {self.name}"


@dataclass(frozen=True, slots=True)
class LinkFacts(LinkDirections):
    pk: int
    tier: str
    capacity_bps: int
    a_interface: InterfaceFacts
    b_interface: InterfaceFacts

    def __str__(self):
        return f"{self.a_interface} ↔ {self.b_interface}"

    @property
    def a_interface_id(self) -> int:
        return self.a_interface.pk

    @property
    def b_interface_id(self) -> int:
        return self.b_interface.pk

    def get_tier_display(self) -> str:
        return str(TIER_LABELS.get(self.tier, self.tier))

    @property
    def downstream_end(self) -> str:
        a, b = self.a_interface.device, self.b_interface.device
        return downstream_end(self.tier, LinkEnd(a.role, a.site.region.path), LinkEnd(b.role, b.site.region.path))


END_FIELDS = ("interface_id", "interface__name", "interface__device_id", "interface__device__name",
              "interface__device__role", "interface__device__site__name", "interface__device__site__region__name",
              "interface__device__site__region__slug", "interface__device__site__region__path")
FIELDS = ("pk", "tier", "capacity_bps", *(f"{end}_{field}" for end in "ab" for field in END_FIELDS))


def link_facts(queryset=None) -> list[LinkFacts]:
    """The links of `queryset` (all by default) in its order; a list already loaded is returned as it is, so a page
    asking several questions of the same links loads them once."""
    if isinstance(queryset, list):
        return queryset
    devices: dict[int, DeviceFacts] = {}

    def end(values) -> InterfaceFacts:
        interface_id, name, device_id, device_name, role, site, region, slug, path = values
        device = devices.get(device_id)
        if device is None:
            device = devices[device_id] = DeviceFacts(device_id, device_name, role,
                                                      SiteFacts(site, RegionFacts(region, slug, path)))
        return InterfaceFacts(interface_id, name, device)

    width = len(END_FIELDS)
    return [LinkFacts(row[0], row[1], row[2], end(row[3:3 + width]), end(row[3 + width:]))
            for row in (queryset if queryset is not None else Link.objects.all()).values_list(*FIELDS)]
