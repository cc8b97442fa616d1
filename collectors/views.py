"""Bandwidth pages and the device's collected data. Views declare; collectors.services decide."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from collectors.models import ArpEntry, ConfigVersion, DeviceState, LldpNeighbor, MacEntry
from collectors.services import bandwidth, charts, device_jobs, locate
from collectors.services.configs import shows_secrets, visible_config
from collectors.services.schedules import request_polls
from inventory.choices import LinkTier, RegionLevel
from inventory.models import Device, Interface, Link, Prefix, Region, SshHostKey
from web.access import require_scope, scope_path, scoped, user_role
from web.tables import Percent, attachment, export_response, query_value

EXPORT_HEADER = [_("A device"), _("A interface"), _("B device"), _("B interface"), _("Tier"), _("County/district"),
                 _("Capacity (bit/s)"), _("Down (bit/s)"), _("Up (bit/s)"), _("Utilisation"), _("Measured at")]


def _scoped_links(request):
    links = scoped(Link.objects.all(), request.user)
    tier, county = query_value(request, "tier"), query_value(request, "county")
    if tier:
        links = links.filter(tier=tier)
    if county:
        links = links.filter(b_interface__device__site__region__path__startswith=county)
    return links, tier, county


def _export_rows(rows):
    for r in rows:
        yield [r.link.a_interface.device.name, r.link.a_interface.name, r.link.b_interface.device.name,
               r.link.b_interface.name, r.link.get_tier_display(), r.county, r.link.capacity_bps, r.down_bps,
               r.up_bps, None if r.utilisation is None else Percent(round(r.utilisation, 4)), r.time]


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
        "runs": runs, "running": any(r.in_progress for r in runs),
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
    # Idempotent: a part of the network whose poll is already queued or running is not sent again.
    outcome = request_polls(scope_path(request.user))
    if outcome["sent"]:
        messages.success(request, _("%(n)s poll task(s) sent to the workers.") % {"n": outcome["sent"]})
    if outcome["already_running"]:
        messages.info(request, _("A poll is already queued or running for %(n)s part(s) of your network; no new "
                                 "task was sent for them.") % {"n": outcome["already_running"]})
    return redirect("bandwidth:index")


def link_detail(request, pk):
    require_scope(request.user)
    link = get_object_or_404(scoped(Link.objects.select_related(
        "a_interface__device__site__region", "b_interface__device__site__region"), request.user), pk=pk)
    ends = [interface_id for interface_id, _ in bandwidth.measured_ends(link)]
    return render(request, "collectors/link.html", {
        "link": link, "now": bandwidth.links_now(Link.objects.filter(pk=link.pk))[0],
        "p95": bandwidth.p95_this_month(link), "ranges": charts.range_choices(),
        "range": charts.chosen_range(request.GET.get("range"), ends)})


def link_series(request, pk):
    require_scope(request.user)
    link = get_object_or_404(scoped(Link.objects.select_related(
        "a_interface__device__site__region", "b_interface__device__site__region"), request.user), pk=pk)
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
                 r["days_over"], Percent(round(r["peak"], 4))] for r in rows)
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
    text, diff = visible_config(version, request.user)
    if request.GET.get("download") == "config":
        name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", version.device.name)  # a device name is no path or control text
        fetched = timezone.localtime(version.fetched_at)
        return attachment(HttpResponse(text, content_type="text/plain; charset=utf-8"),
                          f"{name}-{fetched:%Y%m%d-%H%M%S}.cfg")
    versions = ConfigVersion.objects.filter(device=version.device).only("pk", "fetched_at", "lines_added",
                                                                          "lines_removed")
    return render(request, "collectors/config_version.html", {
        "version": version, "versions": versions, "device": version.device, "text": text, "diff": diff,
        "masked": not shows_secrets(request.user)})


def device_collected(device: Device) -> dict:
    """What the device page shows of the collectors: state, latest rates per interface, config versions."""
    state = DeviceState.objects.filter(device=device).first()
    latest = bandwidth.latest_samples(list(device.interfaces.values_list("pk", flat=True)))
    return {"state": state, "latest": latest, "host_key": SshHostKey.objects.filter(device=device).first(),
            "versions": ConfigVersion.objects.filter(device=device).only("pk", "fetched_at", "lines_added",
                                                                           "lines_removed")[:20]}


HOSTKEY_ROLES = ("engineer", "admin")
TABLE_CAP = 100  # rows of each ARP/MAC/LLDP table on the device page; the count says how many there are


def _capped(queryset) -> dict:
    return {"rows": list(queryset[:TABLE_CAP]), "count": queryset.count(), "cap": TABLE_CAP}


def device_tables(device: Device) -> dict:
    """The ARP and MAC tables and LLDP neighbours the last backup read, each capped at TABLE_CAP rows."""
    return {"arp": _capped(ArpEntry.objects.filter(device=device).order_by("ip")),
            "mac": _capped(MacEntry.objects.filter(device=device).order_by("port", "mac")),
            "lldp": _capped(LldpNeighbor.objects.filter(device=device).order_by("local_port", "neighbor_name"))}


def device_panel(request, device: Device) -> dict:
    """The collectors' panel of the device page (collectors/device_panel.html, registered in collectors.apps):
    what device_collected finds, each interface with its latest rates, the links (with their bandwidth pages), and
    whether the user may accept an offered SSH host key. Called only for a device in the user's scope."""
    collected = device_collected(device)
    interfaces = device.interfaces.order_by("if_index", "name")
    links = Link.objects.filter(a_interface__device=device) | Link.objects.filter(b_interface__device=device)
    return {**collected, "interfaces": [{"interface": i, "sample": collected["latest"].get(i.pk)} for i in interfaces],
            "links": links.select_related("a_interface__device", "b_interface__device"),
            "may_accept_host_key": user_role(request.user) in HOSTKEY_ROLES,
            "tables": device_tables(device), **_device_jobs(request, device)}


@require_POST
def accept_host_key(request, pk):
    """An engineer reviewed the host key a device offered (SSH_HOSTKEY_CHANGED/UNKNOWN) and pins it."""
    from collectors.services.hostkeys import accept_offered_key

    require_scope(request.user)
    if user_role(request.user) not in HOSTKEY_ROLES:
        raise PermissionDenied("HOSTKEY_NOT_ALLOWED: only engineers and administrators accept SSH host keys.")
    device = get_object_or_404(scoped(Device.objects.all(), request.user), pk=pk)
    offered = request.POST.get("fingerprint", "")
    key = SshHostKey.objects.filter(device=device).first()
    # The form names the fingerprint the engineer saw: a key that changed again since is not accepted blindly.
    if key is None or not key.offered_key or key.offered_fingerprint != offered:
        messages.error(request, _("The device offers no such key any more; reload the page and check again."))
    else:
        accept_offered_key(device, request.user)
        messages.success(request, _("The new SSH host key is pinned; the next backup uses it."))
    return redirect("inventory:device", pk=device.pk)


# ------------------------------------------------------------------ the engineer's tools on the device page

BACKUP_SESSION_KEY = "device_backups"  # device pk → when this user asked for a backup (ISO time)


def _backup_requested_at(request, device: Device):
    from datetime import datetime

    value = request.session.get(BACKUP_SESSION_KEY, {}).get(str(device.pk))
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _device_jobs(request, device: Device) -> dict:
    """'Back up now' / 'poll now': whether the user may press them and how the last ones went."""
    jobs = [j for j in (device_jobs.backup_status(device, _backup_requested_at(request, device)),
                        device_jobs.poll_status(device)) if j is not None]
    return {"may_collect": user_role(request.user) in COLLECT_ROLES, "jobs": jobs,
            "jobs_open": any(j.open for j in jobs), "may_back_up": device_jobs.may_back_up(device)}


def _device_for_action(request, pk) -> Device:
    require_scope(request.user)
    if user_role(request.user) not in COLLECT_ROLES:
        raise PermissionDenied("COLLECT_NOT_ALLOWED: only engineers and administrators start a poll or a backup.")
    return get_object_or_404(scoped(Device.objects.select_related("site__region"), request.user), pk=pk)


@require_POST
def device_backup_now(request, pk):
    """Queue a backup of one device on its county's queue; the device page follows it."""
    device = _device_for_action(request, pk)
    if not device_jobs.may_back_up(device):
        messages.error(request, _("This device has no SSH credential, so it cannot be backed up; add one in the "
                                  "inventory."))
        return redirect("inventory:device", pk=device.pk)
    sent = device_jobs.request_backup(device)
    backups = request.session.get(BACKUP_SESSION_KEY, {})
    backups[str(device.pk)] = sent["requested_at"]
    request.session[BACKUP_SESSION_KEY] = dict(list(backups.items())[-20:])  # bounded: the latest 20 devices
    messages.success(request, _("Backup sent to the workers of %(queue)s.") % {
        "queue": device_jobs.queue_label(device)})
    return redirect("inventory:device", pk=device.pk)


@require_POST
def device_poll_now(request, pk):
    """Queue a poll of one device on its county's queue; refused while another poll covers it."""
    device = _device_for_action(request, pk)
    sent = device_jobs.request_poll(device)
    if sent["sent"]:
        messages.success(request, _("Poll sent to the workers of %(queue)s.") % {
            "queue": device_jobs.queue_label(device)})
    else:
        messages.info(request, _("A poll already covers this device; wait for it to end, then poll again."))
    return redirect("inventory:device", pk=device.pk)


def device_jobs_status(request, pk):
    """The device's 'back up now' / 'poll now' progress as JSON, for the device page to follow."""
    require_scope(request.user)
    device = get_object_or_404(scoped(Device.objects.select_related("site__region"), request.user), pk=pk)
    jobs = _device_jobs(request, device)
    return JsonResponse({"open": jobs["jobs_open"], "jobs": [j.as_json() for j in jobs["jobs"]]})


def where(request):
    """Where is this IP, MAC or hostname? Switch and port, ARP entry, LLDP neighbour, device: in the user's scope."""
    require_scope(request.user)
    query = request.GET.get("q", "")
    answer = locate.where_is(query, scoped(Device.objects.all(), request.user),
                             scoped(Prefix.objects.all(), request.user))
    return render(request, "collectors/where.html", {"answer": answer, "q": answer["query"],
                                                     "max_query": locate.MAX_QUERY, "max_rows": locate.MAX_ROWS})


def _scoped_interface(request, pk) -> Interface:
    require_scope(request.user)
    return get_object_or_404(scoped(Interface.objects.select_related("device__site__region"), request.user), pk=pk)


def interface_detail(request, pk):
    """One interface's graphs: traffic in/out, errors and discards, with the range picker."""
    interface = _scoped_interface(request, pk)
    return render(request, "collectors/interface.html", {
        "interface": interface, "device": interface.device, "ranges": charts.range_choices(),
        "range": charts.chosen_range(request.GET.get("range"), [interface.pk]),
        "latest": bandwidth.latest_samples([interface.pk]).get(interface.pk)})


def interface_series(request, pk):
    interface = _scoped_interface(request, pk)
    return JsonResponse(charts.interface_series(interface, request.GET.get("range", charts.DEFAULT_RANGE)))
