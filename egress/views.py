"""The Egress pages: the policy, its config per vendor, what verification found (rogue exits with their site and
agency, blocks not enforced), the egress bandwidth with agency shares; and the list of every result. Views declare;
egress.services decide. Every query is scoped to the user's part of the network."""

from collections import defaultdict

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import platforms
from egress.choices import Rule, Status
from egress.models import EgressResult
from egress.services import bandwidth as egress_bandwidth
from egress.services.policy import default_policy
from egress.services.render import render_platform
from inventory.choices import RegionLevel
from inventory.models import Agency, Device, Interface, Link, Region
from policies.services import VisibleLines
from web.access import require_scope, scoped
from web.tables import Column, Filter, ParticularsColumn, TableView, export_response

SHOWN = 100  # failing results and their rows on the overview page; the results list has them all
EXIT_HEADER = [_("Device"), _("Site"), _("Agency"), _("Region"), _("Kind"), _("Interface"), _("Next hop"), _("Line"),
               _("Why")]
KINDS = {"route": _("Default route"), "nat": _("Outbound NAT")}
DIRECTIONS = {"inbound": _("Inbound"), "outbound": _("Outbound")}
CHECK_HEADER = [_("Device"), _("Site"), _("Agency"), _("Interface"), _("Direction"), _("Traffic"), _("Enforced"),
                _("ACL"), _("Deciding line"), _("Why")]


def _rows(results, kind: str):
    """(result, detail) for each detail of the given kind that is a problem: a rogue exit, or a port not blocked."""
    for result in results:
        for detail in result.details:
            if kind == "exit" and detail.get("rogue"):
                yield result, detail
            elif kind == "check" and "enforced" in detail and not detail["enforced"]:
                yield result, detail


def _line(pair, result, user) -> str:
    """A config line as `user` may see it: secrets masked by the platform's rules for every role but admin."""
    if not pair:
        return ""
    return f"{pair[0]}: {VisibleLines(user, result.device.platform).lines([str(pair[1])])[0]}"


def _exit_cells(result, detail, user):
    site = result.device.site
    return [result.device.name, site.name, site.agency.name if site.agency else "", site.region.name,
            KINDS.get(detail["kind"], detail["kind"]), detail.get("interface") or "", detail.get("next_hop") or "",
            _line(detail.get("line"), result, user), detail.get("reason", "")]


def _check_cells(result, detail, user):
    site = result.device.site
    return [result.device.name, site.name, site.agency.name if site.agency else "", detail["interface"],
            DIRECTIONS.get(detail["direction"], detail["direction"]), detail["traffic"], detail["enforced"],
            detail.get("acl") or "", _line(detail.get("rule") or detail.get("binding"), result, user),
            detail.get("reason", "")]


def index(request):
    require_scope(request.user)
    policy = default_policy()
    results = scoped(EgressResult.objects.select_related("device__site__region", "device__site__agency"),
                     request.user)
    failing = results.filter(status__in=(Status.FAIL, Status.ERROR)).order_by("device__name", "rule")
    exits = failing.filter(rule__in=(Rule.NO_ROGUE_DEFAULT_ROUTE, Rule.NO_ROGUE_NAT))
    blocks = failing.filter(rule=Rule.SMB_BLOCKED)
    report = egress_bandwidth.egress_report(scoped(Link.objects.all(), request.user),
                                            scoped(Interface.objects.all(), request.user),
                                            scoped(Agency.objects.all(), request.user), policy)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        kind = request.GET.get("report", "bandwidth")
        if kind == "exits":
            return export_response([str(h) for h in EXIT_HEADER],
                                   (_exit_cells(r, d, request.user) for r, d in _rows(exits, "exit")), export,
                                   "egress-rogue-exits")
        if kind == "checks":
            return export_response([str(h) for h in CHECK_HEADER],
                                   (_check_cells(r, d, request.user) for r, d in _rows(blocks, "check")), export,
                                   "egress-blocks-not-enforced")
        return export_response(egress_bandwidth.EXPORT_HEADER, egress_bandwidth.export_rows(report), export,
                               "egress-bandwidth")
    counts = defaultdict(dict)
    for rule, status, n in _counts(results):
        counts[rule][status] = n
    devices = scoped(Device.objects.all(), request.user)
    checked = results.values("device").distinct().count()
    return render(request, "egress/index.html", {
        "policy": policy,
        "summary": [{"rule": rule, "label": label, **{s: counts[rule].get(s, 0) for s in Status.values}}
                    for rule, label in Rule.choices if rule != Rule.CONFIG_READABLE],
        "errors": failing.filter(status=Status.ERROR)[:SHOWN],
        "exits": [_exit_cells(r, d, request.user) for r, d in _rows(exits[:SHOWN], "exit")],
        "checks": [_check_cells(r, d, request.user) for r, d in _rows(blocks[:SHOWN], "check")][:SHOWN],
        "failing_count": failing.count(), "checked": checked, "not_checked": devices.count() - checked,
        "last_checked": results.order_by("-checked_at").values_list("checked_at", flat=True).first(),
        "rendered": [render_platform(p.slug, policy, devices) for p in platforms.all_platforms()],
        "links": report["links"], "agencies": report["agencies"], "shown": SHOWN})


def _counts(results):
    from django.db.models import Count

    return results.order_by().values_list("rule", "status").annotate(n=Count("pk"))


def county_choices(request):
    return list(scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user).values_list("path", "name"))


class ResultList(TableView):
    model = EgressResult
    title = _("Egress verification results")
    empty_message = _("No results: run `manage.py egress verify` after a backup.")
    select_related = ["device__site__region", "device__site__agency"]
    columns = [Column("device__name", _("Device")),
               Column("device__platform", _("Platform"), "device__get_platform_display"),
               Column("device__role", _("Role"), "device__get_role_display"),
               Column("device__site__name", _("Site")), Column("device__site__agency__name", _("Agency")),
               Column("rule", _("Rule")), Column("status", _("Status"), "get_status_display"),
               ParticularsColumn("message", _("Message"), sortable=False), Column("checked_at", _("Checked at"))]
    filters = [Filter("rule", _("Rule"), "rule", Rule.choices), Filter("status", _("Status"), "status", Status.choices),
               Filter("county", _("County/district"), "device__site__region__path__startswith", county_choices)]
    search_fields = ["device__name", "device__site__name", "device__site__agency__name", "message"]
    default_sort = "device__name"
    tabs_template = "egress/tabs.html"

    @staticmethod
    def row_url(obj):
        return reverse("inventory:device", args=[obj.device_id])
