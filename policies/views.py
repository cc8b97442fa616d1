"""Compliance pages: scores per region, agency and rule with their trend, findings with evidence and remediation,
waivers, the MLPS evidence workbook, and the device page's panel. Views declare; policies.services decide.

Config lines are the devices' own (hostile) text: they reach pages through Django's escaping only, exports through
web.tables.safe_cell, and every role but admin sees them with secrets masked (as config pages do).
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Max, Value, When
from django.db.models import CharField as CharOutput
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from inventory.choices import RegionLevel
from inventory.models import Agency, Device, Region
from policies.choices import SEVERITY_RANK, Severity, Status
from policies.engine import PARSE_RULE
from policies.forms import MAX_WAIVER_DAYS, WAIVER_ROLES, WaiverForm
from policies.mlps import evidence_text, evidence_workbook
from policies.models import RuleEvent, RuleResult, Waiver
from policies.rules import rule_set
from policies.services import (
    FAILING,
    WAIVED,
    ActiveWaivers,
    VisibleLines,
    annotate_waivers,
    by_region_and_agency,
    count_by,
    region_counts,
    scope_root,
    score_row,
    score_trend,
    waivers_for_device,
    wider_waivers,
    with_shown_status,
)
from web.access import WHOLE_NETWORK, require_scope, scope_path, scoped, user_role
from web.tables import Column, Filter, TableView, attachment, export_response, query_value

STATUS_LABELS = {**dict(Status.choices), WAIVED: _("Waived")}
STATUS_ORDER = {Status.ERROR: 0, Status.FAIL: 1, WAIVED: 2, Status.PASS: 3, Status.NOT_APPLICABLE: 4}
TREND_DAYS = (7, 30, 90)
AGENCIES_SHOWN = 25  # the worst agencies on the overview; ?agencies=all shows every one


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


# -- regions: the user's root, the child regions a table shows ------------------------------------------------------
def own_label(region: Region) -> str:
    if region.level == RegionLevel.CITY:
        return str(_("City-level agencies and sites"))
    return str(_("%(region)s's own sites")) % {"region": region.name}


def _children(root: Region | None, user) -> list[Region]:
    children = Region.objects.filter(parent=root) if root else Region.objects.filter(parent__isnull=True)
    return list(scoped(children, user).order_by("path"))


def _rules() -> dict:
    return {rule.id: rule for rule in rule_set().rules}


def _severity_label(rules, rule_id) -> str:
    rule = rules.get(rule_id)
    return dict(Severity.choices).get(rule.severity, rule.severity) if rule else ""


def _rule_title(rules, rule_id) -> str:
    rule = rules.get(rule_id)
    return rule.shown_title if rule else (_("The config can be read") if rule_id == PARSE_RULE else "")


# -- overview --------------------------------------------------------------------------------------------------------
def overview(request):
    """Scores of the scope (or of `?region=SLUG` in it) per child region, agency and rule, with the daily trend."""
    require_scope(request.user)
    top = scope_root(request.user)
    root = top
    slug = query_value(request, "region")
    if slug:
        root = get_object_or_404(scoped(Region.objects.all(), request.user), slug=slug)
    results = scoped(RuleResult.objects.all(), request.user)
    if root is not None:
        results = results.filter(device__site__region__path__startswith=root.path)
    children = _children(root, request.user)
    by_region, by_agency = by_region_and_agency(results)
    counts = region_counts(results, root, children, by_region)
    findings = reverse("compliance:findings")
    region_rows = [score_row(counts["children"][child.pk], name=child.name, slug=child.slug,
                             findings=f"{findings}?{urlencode({'region': child.path})}") for child in children]
    if root is not None and sum(counts["own"].values()):
        region_rows.append(score_row(counts["own"], name=own_label(root), slug=None,
                                     findings=f"{findings}?{urlencode({'at': root.path})}"))
    rules = _rules()
    rule_rows = sorted((score_row(c, key=rule_id, rule=rules.get(rule_id), title=_rule_title(rules, rule_id),
                                  severity=_severity_label(rules, rule_id))
                        for rule_id, c in count_by(results, "rule").items()),
                       key=lambda r: (r["score"] if r["score"] is not None else 101, r["key"]))
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=[pk for pk in by_agency if pk])}
    agency_rows = sorted((score_row(c, agency=agencies.get(pk), name=agencies[pk].name if pk in agencies else
                                    str(_("No agency (network sites)"))) for pk, c in by_agency.items()),
                         key=lambda r: (r["score"] if r["score"] is not None else 101, r["name"]))
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return _export_scores(request, export, region_rows, agency_rows, rule_rows)
    days = _choice(request, "days", TREND_DAYS, 30)
    trend = score_trend(root, children, days, counts)
    series = [{"name": str(root.name if root else _("Whole network")), "data": trend["scope"], "scope": True}]
    if root is not None and any(v is not None for v in trend["own"]):
        series.append({"name": own_label(root), "data": trend["own"]})
    series += [{"name": child.name, "data": trend["children"][child.pk]} for child in children]
    checked = results.aggregate(devices=Count("device_id", distinct=True), last=Max("checked_at"))
    query = request.GET.copy()
    query.pop("export", None)
    return render(request, "policies/overview.html", {
        "root": root, "breadcrumbs": [r for r in root.ancestors() if top is None or r.path.startswith(top.path)]
        if root else [], "total": score_row(counts["total"]), "checked": checked, "region_rows": region_rows,
        "child_level": children[0].get_level_display() if children else "",
        "agency_rows": agency_rows if request.GET.get("agencies") == "all" else agency_rows[:AGENCIES_SHOWN],
        "agencies_hidden": max(0, len(agency_rows) - AGENCIES_SHOWN) if request.GET.get("agencies") != "all" else 0,
        "rule_rows": rule_rows, "findings": findings, "days": days, "trend_days": TREND_DAYS,
        "trend": {"dates": trend["dates"], "series": series, "label": str(_("Score (%)"))},
        "query": query.urlencode(), "may_waive": user_role(request.user) in WAIVER_ROLES})


def _choice(request, name, allowed, default):
    value = query_value(request, name)
    return int(value) if value.isdigit() and int(value) in allowed else default


def _export_scores(request, kind, region_rows, agency_rows, rule_rows):
    table = request.GET.get("table", "regions")
    counts = [str(_("Pass")), str(_("Fail")), str(_("Waived")), str(_("Not applicable")), str(_("Score (%)"))]

    def figures(row):
        return [row["pass"], row["fail"], row["waived"], row["not_applicable"], row["score"]]

    if table == "rules":
        header = [str(_("Rule")), str(_("Title")), str(_("Severity")), str(_("MLPS clauses"))] + counts
        rows = ([r["key"], r["title"], r["rule"].severity if r["rule"] else "",
                 ", ".join(r["rule"].mlps) if r["rule"] else ""] + figures(r) for r in rule_rows)
    elif table == "agencies":
        header = [str(_("Agency"))] + counts
        rows = ([r["name"]] + figures(r) for r in agency_rows)
    else:
        table = "regions"
        header = [str(_("Region"))] + counts
        rows = ([r["name"]] + figures(r) for r in region_rows)
    return export_response(header, rows, kind, f"compliance-{table}")


# -- findings --------------------------------------------------------------------------------------------------------
def county_choices(request):
    roots = scoped(Region.objects.filter(level=RegionLevel.CITY), request.user)
    counties = scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user)
    return [(r.slug, own_label(r)) for r in roots] + list(counties.values_list("slug", "name"))


def agency_choices(request):
    return list(scoped(Agency.objects.all(), request.user).order_by("name").values_list("slug", "name"))


def rule_choices(request=None):
    return [(rule.id, f"{rule.id} · {rule.shown_title}") for rule in rule_set().rules]


STATUS_CHOICES = [(s, STATUS_LABELS[s]) for s in (Status.FAIL, Status.ERROR, WAIVED, Status.PASS,
                                                   Status.NOT_APPLICABLE)]


class FindingList(TableView):
    """Every result in scope, worst first, with evidence and remediation; `status=waived` lists waived failures."""

    model = RuleResult
    title = _("Findings")
    template_name = "policies/findings.html"
    empty_message = _("No findings: no config in your scope has been checked yet.")
    select_related = ["device__site__agency", "device__site__region"]
    columns = [Column("device__name", _("Device")), Column("county", _("County/district")),
               Column("device__site__name", _("Site")), Column("device__site__agency__name", _("Agency")),
               Column("rule", _("Rule")), Column("severity_rank", _("Severity"), "get_severity_display"),
               Column("status_rank", _("Status")), Column("checked_at", _("Checked at"))]
    filters = [Filter("county", _("County/district"), "county", county_choices),
               Filter("agency", _("Agency"), "device__site__agency__slug", agency_choices),
               Filter("rule", _("Rule"), "rule", rule_choices),
               Filter("severity", _("Severity"), "severity", Severity.choices),
               Filter("status", _("Status"), "shown", STATUS_CHOICES),
               # Free filters the overview and the device page link to (a region's subtree, its own sites, a device).
               Filter("region", _("Region"), "device__site__region__path__startswith"),
               Filter("at", _("Region's own sites"), "device__site__region__path"),
               Filter("device", _("Device"), "device__name")]
    # Device names and rule ids only: a search over messages or evidence would let a user probe for a masked secret.
    search_fields = ["device__name", "rule"]
    default_sort = "status_rank"

    def base_queryset(self):
        roots = scoped(Region.objects.filter(level=RegionLevel.CITY), self.request.user)
        counties = scoped(Region.objects.filter(level=RegionLevel.COUNTY), self.request.user)
        places = [When(device__site__region__path__startswith=c.path, then=Value(c.slug)) for c in counties] + \
            [When(device__site__region__path__startswith=r.path, then=Value(r.slug)) for r in roots]
        results = with_shown_status(super().base_queryset()).annotate(
            status_rank=Case(*[When(shown=s, then=Value(n)) for s, n in STATUS_ORDER.items()], default=Value(9),
                             output_field=IntegerField()),
            severity_rank=Case(*[When(severity=s, then=Value(n)) for s, n in SEVERITY_RANK.items()], default=Value(0),
                               output_field=IntegerField()))
        return results.annotate(county=Case(*places, default=Value(""), output_field=CharOutput())) if places \
            else results.annotate(county=Value("", output_field=CharOutput()))

    def filtered(self, request):
        queryset, active, q, sort = super().filtered(request)
        if sort == self.default_sort:  # worst first: errors and failures, the most severe first
            queryset = queryset.order_by("status_rank", "-severity_rank", "device__name", "rule", "pk")
        return queryset, active, q, sort

    def extra_context(self, request):
        rules = _rules()
        places = dict(county_choices(request))
        rows = []
        for result in self._page_results:
            visible = VisibleLines(request.user, result.device.platform)
            rows.append({"result": result, "rule": rules.get(result.rule), "title": _rule_title(rules, result.rule),
                         "county": places.get(result.county, ""), "status": result.shown,
                         "status_label": STATUS_LABELS.get(result.shown, result.shown),
                         "message": visible.message(result.message), "evidence": visible.evidence(result.evidence),
                         "remediation": visible.lines(result.remediation)})
        return {"findings": rows, "may_waive": user_role(request.user) in WAIVER_ROLES}

    def row_url(self, obj):
        # TableView asks each object of the page for its link, before extra_context: the rows are kept here so the
        # page shows them whole (evidence, remediation) and not only as the columns' cells.
        self._page_results.append(obj)
        return reverse("compliance:result", args=[obj.pk])

    def get(self, request, *args, **kwargs):
        self._page_results = []
        return super().get(request, *args, **kwargs)

    def export(self, queryset, kind):
        request = self.request
        rules, places, waivers = _rules(), dict(county_choices(request)), ActiveWaivers()
        header = [str(h) for h in (_("Device"), _("County/district"), _("Site"), _("Agency"), _("Rule"), _("Title"),
                                   _("MLPS clauses"), _("Severity"), _("Status"), _("Waiver"), _("Message"),
                                   _("Evidence"), _("Remediation"), _("In this status since"), _("Checked at"))]

        def rows():
            for r in queryset.iterator(chunk_size=2000):
                visible, rule = VisibleLines(request.user, r.device.platform), rules.get(r.rule)
                waiver = waivers.covering(r.device_id, r.rule, r.device.site.region.path) if r.shown == WAIVED \
                    else None
                yield [r.device.name, places.get(r.county, ""), r.device.site.name,
                       r.device.site.agency.name if r.device.site.agency else "", r.rule,
                       _rule_title(rules, r.rule), ", ".join(rule.mlps) if rule else "", r.get_severity_display(),
                       str(STATUS_LABELS.get(r.shown, r.shown)),
                       f"{waiver.reason} ({_local(waiver.expires_at)})" if waiver else "",
                       visible.message(r.message), evidence_text(visible.evidence(r.evidence)),
                       "\n".join(visible.lines(r.remediation)), _local(r.since), _local(r.checked_at)]

        return export_response(header, rows(), kind, "compliance-findings")


def result_detail(request, pk):
    """One rule on one device: status, evidence, remediation, its history of flips and the waivers that touch it."""
    require_scope(request.user)
    result = get_object_or_404(scoped(with_shown_status(RuleResult.objects.select_related(
        "device__site__region", "device__site__agency", "config_version")), request.user), pk=pk)
    rules, visible = _rules(), VisibleLines(request.user, result.device.platform)
    waivers = waivers_for_device(result.device).filter(rule__in=["", result.rule]).select_related(
        "owner", "region", "device").order_by("-expires_at")[:50]
    return render(request, "policies/result.html", {
        "result": result, "rule": rules.get(result.rule), "title": _rule_title(rules, result.rule),
        "status": result.shown, "status_label": STATUS_LABELS.get(result.shown, result.shown),
        "message": visible.message(result.message), "evidence": visible.evidence(result.evidence),
        "remediation": visible.lines(result.remediation), "now": timezone.now(),
        "events": scoped(RuleEvent.objects.filter(device=result.device, rule=result.rule), request.user)[:50],
        "waivers": waivers, "status_labels": STATUS_LABELS,
        "may_waive": user_role(request.user) in WAIVER_ROLES and result.shown in FAILING})


# -- waivers ---------------------------------------------------------------------------------------------------------
KIND_LABELS = {"device": _("Device"), "region": _("Rule across a region"), "everywhere": _("Rule everywhere")}


class WaiverList(TableView):
    """The waivers of the user's scope, active first; those set above it (rule-wide, on a wider region) are shown
    apart, read only: they cover the user's devices too."""

    model = Waiver
    title = _("Waivers")
    template_name = "policies/waivers.html"
    empty_message = _("No waivers.")
    select_related = ["device", "region", "owner"]
    columns = [Column("kind", _("Scope")), Column("rule", _("Rule")), Column("device__name", _("Device")),
               Column("region__name", _("Region")), Column("owner__username", _("Owner")),
               Column("reason", _("Reason"), sortable=False), Column("created_at", _("Created at")),
               Column("expires_at", _("Expires at")), Column("state", _("State"))]
    filters = [Filter("state", _("State"), "state", [("active", pgettext_lazy("waiver state", "Active")),
                                                         ("expired", _("Expired"))]),
               Filter("scope", _("Scope"), "kind", list(KIND_LABELS.items())),
               Filter("rule", _("Rule"), "rule", rule_choices)]
    search_fields = ["reason", "rule", "device__name", "region__name", "owner__username"]
    default_sort = "expires_at"

    def base_queryset(self):
        return annotate_waivers(super().base_queryset())

    def filtered(self, request):
        queryset, active, q, sort = super().filtered(request)
        if sort == self.default_sort:  # active first, the next to expire first; then the latest expired
            queryset = queryset.order_by("state", "expires_at", "pk")
        return queryset, active, q, sort

    def row_url(self, obj):
        self._page_waivers.append(obj)  # see FindingList.row_url
        return None

    def get(self, request, *args, **kwargs):
        self._page_waivers = []
        return super().get(request, *args, **kwargs)

    def extra_context(self, request):
        scope = scope_path(request.user)
        wider = [] if scope == WHOLE_NETWORK else list(annotate_waivers(wider_waivers(scope).select_related(
            "region", "owner")).order_by("state", "expires_at")[:100])
        return {"waivers": self._page_waivers, "wider": wider, "kind_labels": KIND_LABELS,
                "may_waive": user_role(request.user) in WAIVER_ROLES, "rules": _rules()}

    def export(self, queryset, kind):
        header = [str(c.label) for c in self.columns]
        states = dict(self.filters[0].choices)
        rows = ([str(KIND_LABELS.get(w.kind, w.kind)), w.rule or str(_("All rules")), w.device.name if w.device else "",
                 w.region.name if w.region else "", w.owner.get_username(), w.reason, _local(w.created_at),
                 _local(w.expires_at), str(states[w.state])] for w in queryset.iterator(chunk_size=2000))
        return export_response(header, rows, kind, "waivers")


def _may_waive(request):
    require_scope(request.user)
    if user_role(request.user) not in WAIVER_ROLES:
        # No error code of its own yet (web/errors.py is another change's); the page offers no form to these roles.
        raise PermissionDenied("Only engineers and administrators waive a rule; ask one of your region's.")


def waiver_create(request):
    _may_waive(request)
    if request.method == "POST":
        form = WaiverForm(request.POST, user=request.user)
        if form.is_valid():
            waiver = form.save()
            messages.success(request, _("Waiver saved; it expires at %(when)s.") % {"when": _local(waiver.expires_at)})
            return redirect("compliance:waivers")
    else:
        initial = {key: query_value(request, key) for key in ("device", "rule", "scope") if query_value(request, key)}
        initial.setdefault("scope", "device")
        form = WaiverForm(initial=initial, user=request.user)
    return render(request, "policies/waiver_form.html", {"form": form, "max_days": MAX_WAIVER_DAYS})


@require_POST
def waiver_expire(request, pk):
    """End an active waiver of the user's scope now: its failures count as failures again."""
    _may_waive(request)
    waiver = get_object_or_404(scoped(Waiver.objects.active(), request.user), pk=pk)
    waiver.expires_at = timezone.now()
    waiver.save(update_fields=["expires_at"])
    messages.success(request, _("The waiver has expired; the failures it covered count again."))
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("compliance:waivers")


# -- MLPS evidence workbook ------------------------------------------------------------------------------------------
def mlps_export(request):
    """The MLPS 2.0 evidence of the scope (or `?region=SLUG` in it), as an XLSX an auditor takes away."""
    require_scope(request.user)
    root = scope_root(request.user)
    slug = query_value(request, "region")
    if slug:
        root = get_object_or_404(scoped(Region.objects.all(), request.user), slug=slug)
    results = scoped(with_shown_status(RuleResult.objects.select_related(
        "device__site__region", "device__site__agency")), request.user)
    if root is not None:
        results = results.filter(device__site__region__path__startswith=root.path)
    counties = [(r.path, r.slug) for r in scoped(Region.objects.filter(level__in=[RegionLevel.COUNTY,
                                                                                  RegionLevel.CITY]), request.user)]
    content = evidence_workbook(results, root.name if root else "全网 Whole network", request.user,
                                dict(county_choices(request)), counties, _rule_title)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = root.slug if root else "all"
    return attachment(response, f"onenet-mlps-{name}-{timezone.localdate():%Y%m%d}.xlsx")


# -- the device page's panel -----------------------------------------------------------------------------------------
def device_panel(request, device: Device) -> dict:
    """The compliance panel of the device page (policies/device_panel.html, registered in policies.apps): every
    rule's result with evidence and remediation, and the waivers whose scope takes the device in. Called only for a
    device in the user's scope."""
    rules, visible = _rules(), VisibleLines(request.user, device.platform)
    results = sorted(with_shown_status(RuleResult.objects.filter(device=device)),
                     key=lambda r: (STATUS_ORDER.get(r.shown, 9), -SEVERITY_RANK.get(r.severity, 0), r.rule))
    rows = [{"result": r, "title": _rule_title(rules, r.rule), "rule": rules.get(r.rule), "status": r.shown,
             "status_label": STATUS_LABELS.get(r.shown, r.shown), "message": visible.message(r.message),
             "evidence": visible.evidence(r.evidence), "remediation": visible.lines(r.remediation)} for r in results]
    return {"compliance_rows": rows, "compliance_score": score_row(Counter(r.shown for r in results)),
            "compliance_waivers": waivers_for_device(device).select_related("owner", "region").order_by(
                "-expires_at")[:20], "now": timezone.now(), "may_waive": user_role(request.user) in WAIVER_ROLES}
