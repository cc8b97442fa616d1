"""Coverage: which parts of the administrative tree are on the extranet.

For every region: sites expected on the extranet vs sites connected (an expected site with at
least one active device), and devices expected (active or planned) vs connected (active),
rolled up the tree; plus the list of gaps (expected sites not connected).
"""

from collections import defaultdict

from django.db.models import Count, Q

from inventory.choices import DeviceStatus
from inventory.models import Region, Site


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def coverage_report(root_path: str = "/") -> dict:
    """The coverage of the subtree at `root_path` ("/" for the whole network)."""
    regions = list(Region.objects.filter(path__startswith=root_path).values("pk", "slug", "name", "level", "path",
                                                                           "parent__slug"))
    by_slug = {r["slug"]: r for r in regions}
    for region in regions:
        region.update(sites_expected=0, sites_connected=0, devices_expected=0, devices_connected=0)

    sites = (Site.objects.filter(region__path__startswith=root_path)
             .annotate(active=Count("devices", filter=Q(devices__status=DeviceStatus.ACTIVE)),
                       planned=Count("devices", filter=Q(devices__status=DeviceStatus.PLANNED)))
             .values("slug", "name", "expected", "region__path", "agency__name", "active", "planned"))
    gaps = []
    for site in sites:
        connected = site["active"] > 0
        slugs = [s for s in site["region__path"].strip("/").split("/") if s in by_slug]
        for slug in slugs:
            totals = by_slug[slug]
            totals["devices_expected"] += site["active"] + site["planned"]
            totals["devices_connected"] += site["active"]
            if site["expected"]:
                totals["sites_expected"] += 1
                totals["sites_connected"] += connected
        if site["expected"] and not connected:
            chain = [by_slug[s]["name"] for s in slugs]
            gaps.append({"site": site["slug"], "name": site["name"], "agency": site["agency__name"],
                         "region": slugs[-1] if slugs else None, "region_names": chain,
                         "reason": "planned device not yet active" if site["planned"] else "no device"})

    children = defaultdict(list)
    for region in regions:
        region["site_coverage_pct"] = _percent(region["sites_connected"], region["sites_expected"])
        region["device_coverage_pct"] = _percent(region["devices_connected"], region["devices_expected"])
        region["parent"] = region.pop("parent__slug")
        region.pop("pk")
        children[region["parent"]].append(region["slug"])
    counties = [r for r in regions if r["level"] == "county"]
    root = next((r for r in regions if r["path"] == root_path), None) or (regions[0] if regions else None)
    return {
        "root": root["slug"] if root else None,
        "totals": {k: root[k] for k in ("sites_expected", "sites_connected", "devices_expected",
                                        "devices_connected", "site_coverage_pct", "device_coverage_pct")}
        if root else {},
        "counties": counties,
        "regions": regions,
        "gaps": sorted(gaps, key=lambda g: g["region_names"]),
    }
