"""Bandwidth pages and the device's collected data. Views declare; collectors.services decide."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from collectors.models import ConfigVersion, DeviceState
from collectors.services import bandwidth
from collectors.services.schedules import send_polls
from inventory.choices import LinkTier, RegionLevel
from inventory.models import Device, Link, Region
from web.access import require_scope, scope_path, scoped, user_role
from web.tables import export_response

EXPORT_HEADER = [_("A device"), _("A interface"), _("B device"), _("B interface"), _("Tier"), _("County/district"),
                 _("Capacity (bit/s)"), _("Down (bit/s)"), _("Up (bit/s)"), _("Utilisation"), _("Measured at")]


def _scoped_links(request):
    links = scoped(Link.objects.all(), request.user)
    tier, county = request.GET.get("tier", ""), request.GET.get("county", "")
    if tier:
        links = links.filter(tier=tier)
    if county:
        links = links.filter(b_interface__device__site__region__path__startswith=county)
    return links, tier, county


def _export_rows(rows):
    for r in rows:
        yield [r.link.a_interface.device.name, r.link.a_interface.name, r.link.b_interface.device.name,
               r.link.b_interface.name, r.link.get_tier_display(), r.county, r.link.capacity_bps, r.down_bps,
               r.up_bps, None if r.utilisation is None else round(r.utilisation, 4), r.time]


def index(request):
    """Top utilised links, the egress, and summaries per tier and county."""
    require_scope(request.user)
    links, tier, county = _scoped_links(request)
    rows = bandwidth.links_now(links)
    if request.GET.get("export") in ("csv", "xlsx"):
        ordered = sorted(rows, key=lambda r: -(r.utilisation or 0))
        return export_response([str(h) for h in EXPORT_HEADER], _export_rows(ordered), request.GET["export"],
                               "bandwidth")
    egress = [(r, bandwidth.p95_this_month(r.link)) for r in rows if r.link.tier == LinkTier.INTERNET]
    top = sorted((r for r in rows if r.utilisation is not None), key=lambda r: -r.utilisation)[:20]
    counties = dict(scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user).values_list("slug", "name"))
    query = request.GET.copy()
    query.pop("export", None)
    runs = bandwidth.recent_runs(scope_path(request.user))
    return render(request, "collectors/bandwidth.html", {
        "runs": runs, "running": any(r.finished_at is None for r in runs),
        "may_collect": user_role(request.user) in COLLECT_ROLES,
        "egress": egress, "top": top, "by_tier": bandwidth.summary_by(rows, lambda r: r.link.get_tier_display()),
        "by_county": bandwidth.summary_by(rows, lambda r: counties.get(r.county, r.county)),
        "tiers": LinkTier.choices, "tier": tier, "county": county, "query": query.urlencode(),
        "county_choices": scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user),
        "measured": sum(1 for r in rows if r.utilisation is not None), "total": len(rows)})


COLLECT_ROLES = ("engineer", "admin")


@require_POST
def collect_now(request):
    """Send a poll of the user's part of the network to the workers; the page then shows its progress."""
    require_scope(request.user)
    if user_role(request.user) not in COLLECT_ROLES:
        raise PermissionDenied("COLLECT_NOT_ALLOWED: only engineers and administrators start a poll.")
    sent = send_polls(scope_path(request.user))
    messages.success(request, _("%(n)s poll task(s) sent to the workers.") % {"n": sent})
    return redirect("bandwidth:index")


def link_detail(request, pk):
    require_scope(request.user)
    link = get_object_or_404(scoped(Link.objects.select_related(
        "a_interface__device__site__region", "b_interface__device__site__region"), request.user), pk=pk)
    return render(request, "collectors/link.html", {
        "link": link, "now": bandwidth.links_now(Link.objects.filter(pk=link.pk))[0],
        "p95": bandwidth.p95_this_month(link), "ranges": list(bandwidth.RANGES),
        "range": request.GET.get("range", "24h")})


def link_series(request, pk):
    require_scope(request.user)
    link = get_object_or_404(scoped(Link.objects.all(), request.user), pk=pk)
    return JsonResponse(bandwidth.series(link, request.GET.get("range", "24h")))


def _number(request, name, default, low, high, cast=float):
    try:
        return min(high, max(low, cast(request.GET.get(name, default))))
    except ValueError:
        return default


def expansion(request):
    """Links whose peak utilisation passed a threshold on N of the last D days."""
    require_scope(request.user)
    links, tier, county = _scoped_links(request)
    threshold = _number(request, "threshold", 80, 1, 100)
    days_over = _number(request, "days", 3, 1, 30, int)
    window = _number(request, "window", 7, days_over, 60, int)
    rows = bandwidth.expansion_candidates(links, threshold / 100, days_over, window)
    if request.GET.get("export") in ("csv", "xlsx"):
        header = [str(h) for h in EXPORT_HEADER[:7]] + [str(_("Days over the threshold")), str(_("Peak"))]
        data = ([r["link"].a_interface.device.name, r["link"].a_interface.name, r["link"].b_interface.device.name,
                 r["link"].b_interface.name, r["link"].get_tier_display(), "", r["link"].capacity_bps,
                 r["days_over"], round(r["peak"], 4)] for r in rows)
        return export_response(header, data, request.GET["export"], "expansion")
    query = request.GET.copy()
    query.pop("export", None)
    return render(request, "collectors/expansion.html", {
        "rows": rows, "threshold": threshold, "days": days_over, "window": window, "tiers": LinkTier.choices,
        "tier": tier, "county": county, "query": query.urlencode(),
        "county_choices": scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user)})


def config_version(request, pk):
    """One stored config version with its diff against the previous one."""
    require_scope(request.user)
    version = get_object_or_404(scoped(ConfigVersion.objects.select_related("device"), request.user), pk=pk)
    versions = ConfigVersion.objects.filter(device=version.device).only("pk", "fetched_at", "lines_added",
                                                                          "lines_removed")
    return render(request, "collectors/config_version.html", {"version": version, "versions": versions,
                                                              "device": version.device})


def device_collected(device: Device) -> dict:
    """What the device page shows of the collectors: state, latest rates per interface, config versions."""
    state = DeviceState.objects.filter(device=device).first()
    latest = bandwidth.latest_samples(list(device.interfaces.values_list("pk", flat=True)))
    return {"state": state, "latest": latest,
            "versions": ConfigVersion.objects.filter(device=device).only("pk", "fetched_at", "lines_added",
                                                                           "lines_removed")[:20]}
