"""Coverage: which parts of the administrative tree are on the extranet, and which answer now.

For every region: sites expected on the extranet vs sites connected (installed: an expected site with at least one
active device) and answering now (one of its active devices answered SNMP within the last couple of poll
intervals), and devices expected (active or planned) vs connected (active) and answering now, rolled up the tree;
plus the gaps (expected sites not connected) and the sites installed but silent; and availability over the last
24 hours (the share of polls answered, collectors.models.DeviceAvailability, the reverse relation `availability`).

A device's last SNMP answer is the collectors' (DeviceState.last_poll_ok_at, the reverse relation `state`), read by
name in the query: inventory imports nothing of the apps downstream of it.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, FloatField, Max, Q, Sum
from django.db.models.functions import Cast, NullIf
from django.utils import timezone

from inventory.choices import DeviceStatus, RegionLevel
from inventory.models import Region, Site

ANSWER_INTERVALS = 2  # "now": within this many poll intervals (a late or slow cycle is not silence)
ANSWERED = "state__last_poll_ok_at"  # a Device lookup: when it last answered SNMP
AVAILABILITY = "availability"  # a Device lookup: its hourly poll buckets (collectors.models.DeviceAvailability)


def answering_since(now=None):
    """The oldest SNMP answer (or sample) that still counts as "now": two poll intervals and a minute back."""
    return (now or timezone.now()) - timedelta(seconds=ANSWER_INTERVALS * settings.ONENET_POLL_INTERVAL_S + 60)


def availability_since(hours: int = 24, now=None):
    """The first hour bucket of the last `hours` hours (the current hour is the last one)."""
    now = now or timezone.now()
    return (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def availability_sums(prefix: str = "", since=None) -> dict:
    """Aggregates of the polls and answered polls since `since` (the last 24 hours) of the devices reached by
    `prefix` ("" from a Device, "devices__" from a Site): {"polls", "answered"}, for annotate()."""
    since = since or availability_since()
    when = Q(**{f"{prefix}{AVAILABILITY}__hour__gte": since})
    return {"polls": Sum(f"{prefix}{AVAILABILITY}__polls", filter=when),
            "answered": Sum(f"{prefix}{AVAILABILITY}__answered", filter=when)}


def availability_share(since=None):
    """A Device annotation: the share (0..1) of its polls answered since `since` (the last 24 hours); null when
    it was not polled."""
    sums = availability_sums("", since)
    return Cast(sums["answered"], FloatField()) / NullIf(Cast(sums["polls"], FloatField()), 0.0)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


FIGURES = ("sites_expected", "sites_connected", "sites_answering", "devices_expected", "devices_connected",
           "devices_answering")


def coverage_report(root_path: str = "/") -> dict:
    """The coverage of the subtree at `root_path` ("/" for the whole network)."""
    regions = list(Region.objects.filter(path__startswith=root_path).values("pk", "slug", "name", "level", "path",
                                                                           "parent__slug"))
    by_slug = {r["slug"]: r for r in regions}
    for region in regions:
        region.update(dict.fromkeys(FIGURES, 0), polls_24h=0, answered_24h=0)

    active = Q(devices__status=DeviceStatus.ACTIVE)
    answered_lately = Q(**{f"devices__{ANSWERED}__gte": answering_since()})
    # order_by(): no default ordering in the GROUP BY (it would split the counts).
    sites = (Site.objects.filter(region__path__startswith=root_path).order_by()
             .annotate(active=Count("devices", filter=active),
                       planned=Count("devices", filter=Q(devices__status=DeviceStatus.PLANNED)),
                       answering=Count("devices", filter=active & answered_lately),
                       last_answer=Max(f"devices__{ANSWERED}", filter=active))
             .values("slug", "name", "expected", "region__path", "agency__name", "active", "planned", "answering",
                     "last_answer"))
    gaps, silent = [], []
    for site in sites:
        connected, answering = site["active"] > 0, site["answering"] > 0
        slugs = [s for s in site["region__path"].strip("/").split("/") if s in by_slug]
        for slug in slugs:
            totals = by_slug[slug]
            totals["devices_expected"] += site["active"] + site["planned"]
            totals["devices_connected"] += site["active"]
            totals["devices_answering"] += site["answering"]
            if site["expected"]:
                totals["sites_expected"] += 1
                totals["sites_connected"] += connected
                totals["sites_answering"] += answering
        place = {"site": site["slug"], "name": site["name"], "agency": site["agency__name"],
                 "region": slugs[-1] if slugs else None, "region_names": [by_slug[s]["name"] for s in slugs]}
        if site["expected"] and not connected:
            gaps.append({**place, "reason": "planned device not yet active" if site["planned"] else "no device"})
        elif site["expected"] and not answering:
            silent.append({**place, "last_answer": site["last_answer"]})

    # Availability over the last 24 hours (the share of polls answered), in a query of its own: joined to the
    # counts above it would multiply their rows.
    for site in (Site.objects.filter(region__path__startswith=root_path).order_by().values("region__path")
                 .annotate(**availability_sums("devices__")).filter(polls__gt=0)):
        for slug in (s for s in site["region__path"].strip("/").split("/") if s in by_slug):
            by_slug[slug]["polls_24h"] += site["polls"]
            by_slug[slug]["answered_24h"] += site["answered"] or 0

    children = defaultdict(list)
    levels = dict(RegionLevel.choices)
    for region in regions:
        polls = region["polls_24h"]
        region["availability_pct"] = round(100.0 * region["answered_24h"] / polls, 2) if polls else None
        region["site_coverage_pct"] = _percent(region["sites_connected"], region["sites_expected"])
        region["device_coverage_pct"] = _percent(region["devices_connected"], region["devices_expected"])
        region["site_answering_pct"] = _percent(region["sites_answering"], region["sites_expected"])
        region["device_answering_pct"] = _percent(region["devices_answering"], region["devices_expected"])
        region["level_label"] = str(levels.get(region["level"], region["level"]))
        region["parent"] = region.pop("parent__slug")
        region.pop("pk")
        children[region["parent"]].append(region["slug"])
    counties = [r for r in regions if r["level"] == "county"]
    root = next((r for r in regions if r["path"] == root_path), None) or (regions[0] if regions else None)
    return {
        "root": root["slug"] if root else None,
        "totals": {k: root[k] for k in (*FIGURES, "site_coverage_pct", "device_coverage_pct", "site_answering_pct",
                                        "device_answering_pct", "polls_24h", "answered_24h",
                                        "availability_pct")} if root else {},
        "counties": counties,
        "regions": regions,
        "gaps": sorted(gaps, key=lambda g: g["region_names"]),
        # Installed (an active device) but no device of the site answered SNMP lately: down, or unreachable.
        "not_answering": sorted(silent, key=lambda s: s["region_names"]),
    }
