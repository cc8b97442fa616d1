"""Egress bandwidth: each internet link of the approved egress now and its 95th percentile this month, and each
agency's share where an agency has its own interface (or VLAN interface) on an egress device.

The figures come from collectors.services.bandwidth. Directions are the city's: "from the internet" is into the
city (the egress's internet interface receives it), "to the internet" the reverse, whichever end of the link the
inventory writes first. An egress interface is an agency's when its description names the agency (its slug as a
word, or its name) and it is no end of an internet link; its traffic out of the egress is what the agency takes
from the internet, and its share is that part of all the egress links' traffic from the internet (and likewise to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.services import bandwidth
from egress.services.policy import EgressPolicy, default_policy
from inventory.models import Agency, Device, Interface, Link
from web.tables import Percent

INTERNET = "internet"


@dataclass
class EgressLink:
    link: Link
    egress_device: str
    egress_interface: str
    upstream: str  # the device at the internet end (the ISP)
    capacity_bps: int
    measured_at: object
    from_internet_bps: float | None
    to_internet_bps: float | None
    utilisation: float | None
    p95_from_internet_bps: float | None
    p95_to_internet_bps: float | None
    p95_utilisation: float | None
    p95_samples: int


@dataclass
class AgencyShare:
    agency: str
    device: str
    interface: str
    from_internet_bps: float | None
    to_internet_bps: float | None
    share_from_internet: float | None  # of all the egress links' traffic from the internet
    share_to_internet: float | None


def _share(part, whole):
    return None if part is None or not whole else part / whole


def egress_links(links, policy: EgressPolicy) -> list[EgressLink]:
    rows = []
    for now in bandwidth.links_now(links.filter(tier=INTERNET)):
        link = now.link
        a, b = link.a_interface, link.b_interface
        egress_is_a = policy.is_egress(a.device.name, a.device.role) or not policy.is_egress(b.device.name,
                                                                                            b.device.role)
        mine, theirs = (a, b) if egress_is_a else (b, a)
        p95 = bandwidth.p95_this_month(link)  # "down" is into the city: from the internet
        rows.append(EgressLink(link, mine.device.name, mine.name, theirs.device.name, link.capacity_bps, now.time,
                               now.down_bps, now.up_bps, now.utilisation, p95["down_bps"], p95["up_bps"],
                               p95["utilisation"], p95["samples"]))
    return rows


def _names_agency(description: str, agency: Agency) -> bool:
    return agency.name in description or bool(re.search(rf"(?<![\w-]){re.escape(agency.slug)}(?![\w-])",
                                                         description, re.IGNORECASE))


def agency_shares(interfaces, agencies, links: list[EgressLink], policy: EgressPolicy) -> list[AgencyShare]:
    """`interfaces` and `agencies`: what the user may see."""
    egress = Device.objects.filter(policy.egress_filter()).values("pk")
    internet_ends = set(Link.objects.filter(tier=INTERNET).values_list("a_interface_id", flat=True)) | \
        set(Link.objects.filter(tier=INTERNET).values_list("b_interface_id", flat=True))
    candidates = [i for i in interfaces.filter(device_id__in=egress).exclude(description="").select_related("device")
                  if i.pk not in internet_ends]
    agencies = list(agencies)
    owned = [(interface, agency) for interface in candidates
             for agency in [next((a for a in agencies if _names_agency(interface.description, a)), None)] if agency]
    latest = bandwidth.latest_samples([interface.pk for interface, _ in owned])
    total_from = sum(row.from_internet_bps or 0 for row in links)
    total_to = sum(row.to_internet_bps or 0 for row in links)
    rows = []
    for interface, agency in owned:
        sample = latest.get(interface.pk)
        from_bps, to_bps = (sample.out_bps, sample.in_bps) if sample else (None, None)
        rows.append(AgencyShare(agency.name, interface.device.name, interface.name, from_bps, to_bps,
                                _share(from_bps, total_from), _share(to_bps, total_to)))
    return sorted(rows, key=lambda r: -(r.share_from_internet or 0))


def egress_report(links=None, interfaces=None, agencies=None, policy: EgressPolicy | None = None) -> dict:
    """The egress links and agency shares over what the caller may see (default: everything)."""
    policy = policy or default_policy()
    rows = egress_links(links if links is not None else Link.objects.all(), policy)
    shares = agency_shares(interfaces if interfaces is not None else Interface.objects.all(),
                           agencies if agencies is not None else Agency.objects.all(), rows, policy)
    return {"links": rows, "agencies": shares}


EXPORT_HEADER = ["kind", "name", "device", "interface", "upstream", "capacity_bps", "from_internet_bps",
                 "to_internet_bps", "utilisation", "p95_from_internet_bps", "p95_to_internet_bps", "p95_utilisation",
                 "share_from_internet", "share_to_internet", "measured_at"]


def export_rows(report: dict):
    """One row per egress link, then one per agency interface (EXPORT_HEADER's columns)."""
    for row in report["links"]:
        yield ["link", f"{row.egress_device} {row.egress_interface} → {row.upstream}", row.egress_device,
               row.egress_interface, row.upstream, row.capacity_bps, row.from_internet_bps, row.to_internet_bps,
               _rounded(row.utilisation), row.p95_from_internet_bps, row.p95_to_internet_bps,
               _rounded(row.p95_utilisation), None, None, row.measured_at]
    for row in report["agencies"]:
        yield ["agency", row.agency, row.device, row.interface, None, None, row.from_internet_bps, row.to_internet_bps,
               None, None, None, None, _rounded(row.share_from_internet), _rounded(row.share_to_internet), None]


def _rounded(value):
    """A share as exports write percentages: a number with a percent format."""
    return None if value is None else Percent(round(value, 4))
