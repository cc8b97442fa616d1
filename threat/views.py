"""The alert queue (one incident per infected host, with bulk triage), an incident's page, every alert's list and
one alert's page with its triage actions. Views declare; threat.services decide."""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from changes.forms import ContainForm
from changes.services import ChangeError, producers
from inventory.choices import RegionLevel
from inventory.models import Agency, Region
from threat.choices import (
    INCIDENT_TRANSITIONS,
    TRANSITIONS,
    TRIAGE_ROLES,
    AlertKind,
    AlertStatus,
    ContainmentKind,
    IncidentStatus,
    Severity,
)
from threat.models import Alert, Incident
from threat.services import ThreatError
from threat.services import alerts as alert_service
from threat.services import incidents as incident_service
from threat.services import proposals as proposal_service
from web.access import require_scope, scoped, user_role
from web.errors import OneNetError
from web.tables import PAGE_SIZE, Column, Filter, TableView, query_value


def county_choices(request):
    return list(scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user).values_list("path", "name"))


def agency_choices(request):
    return list(scoped(Agency.objects.all(), request.user).order_by("name").values_list("slug", "name"))


def assignee_filter_choices(request):
    return [(u.username, u.username) for u in incident_service.assignee_choices(request.user)]


ALL = "all"  # the status filter's "every status, resolved too"; no value means the open ones


def status_choices(request=None):
    return [*IncidentStatus.choices, (ALL, _("All, resolved too"))]


class IncidentQueue(TableView):
    """The alert queue: one row per infected host, the open ones unless asked, newest and most severe first."""

    model = Incident
    title = _("Alert queue")
    template_name = "threat/incidents.html"
    empty_message = _("No open incident: no infected host needs anyone now.")
    select_related = ["county", "agency", "site", "switch", "assignee"]
    # (the first four as in every alert list: what, how bad, where it is in triage, which host)
    columns = [Column("id", _("Incident"), sortable=False),
               Column("severity_rank", _("Severity"), "severity_cell"),
               Column("status", _("Status"), "get_status_display"),
               Column("src", _("Infected host")),
               Column("county__name", _("County/district"), "county_display"),
               Column("agency__name", _("Agency")), Column("site__name", _("Site")),
               Column("switch__name", _("Switch")), Column("switch_port", _("Port")),
               Column("assignee__username", _("Assignee")),
               Column("kinds", _("Kinds"), "kinds_display"),
               Column("alert_count", _("Alerts")),
               Column("first_seen", _("First seen")), Column("age", _("Age"), "age", sortable=False),
               Column("received_at", pgettext_lazy("alert time", "Received")),
               Column("containment", _("Containment"), "containment_cell")]
    filters = [Filter("status", _("Status"), "status", status_choices),
               Filter("severity", _("Severity"), "severity", Severity.choices),
               Filter("county", _("County/district"), "region__path__startswith", county_choices),
               Filter("agency", _("Agency"), "agency__slug", agency_choices),
               Filter("assignee", _("Assignee"), "assignee__username", assignee_filter_choices),
               Filter("kind", _("Kind"), "kinds__contains", AlertKind.choices)]
    search_fields = ["src", "mac", "switch__name", "agency__name", "site__name"]
    default_sort = "-received_at"

    def filtered(self, request):
        wanted = query_value(request, "status")
        if wanted == ALL:  # every status: the status filter is not applied at all
            request = copy.copy(request)
            request.GET = request.GET.copy()
            request.GET.pop("status")
        queryset, active, q, sort = super().filtered(request)
        if wanted == ALL:
            active["status"] = ALL
        elif "status" not in active:
            queryset = queryset.exclude(status=IncidentStatus.RESOLVED)
        if sort == self.default_sort:  # the last received first, the most severe first among them
            queryset = queryset.order_by("-received_at", "-severity_rank", "-last_seen", "-pk")
        return queryset, active, q, sort

    def extra_context(self, request) -> dict:
        triage = can_triage(request.user)
        return {"can_triage": triage, "open_label": _("Open (not resolved)"),
                "assignees": incident_service.assignee_choices(request.user) if triage else []}

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") not in ("csv", "xlsx"):
            require_scope(request.user)
            # the page's proposals up to date before it shows them (a change or a backup may have moved them)
            queryset, _active, _q, _sort = self.filtered(request)
            page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
            proposal_service.sync_incidents(list(page.object_list))
        return super().get(request, *args, **kwargs)

    @staticmethod
    def row_url(obj):
        return reverse("threat:incident", args=[obj.pk])


@require_http_methods(["POST"])
def incidents_bulk(request):
    """One action on the incidents ticked in the queue; an id outside the user's scope refuses the whole POST."""
    require_scope(request.user)
    if not can_triage(request.user):
        raise PermissionDenied("THREAT_READ_ONLY: your role may read alerts but not triage them.")
    try:
        ids = sorted({int(value) for value in request.POST.getlist("incident")})
    except ValueError:
        raise Http404("no such incident") from None
    if len(ids) > incident_service.MAX_BULK:
        messages.error(request, _("Pick at most %(n)s incidents at once.") % {"n": incident_service.MAX_BULK})
        return redirect(_back(request))
    incidents = list(scoped(Incident.objects.filter(pk__in=ids), request.user).order_by("pk"))
    if [i.pk for i in incidents] != ids:  # one is not there, or not in the user's part of the network: act on none
        raise Http404("no such incident")
    if not ids:
        messages.error(request, _("Tick the incidents to act on first."))
        return redirect(_back(request))
    assignee = None
    if request.POST.get("action") == "assign":
        assignee = incident_service.assignee_choices(request.user).filter(
            username=request.POST.get("assignee", "")[:150]).first()
    try:
        done, errors = incident_service.bulk(request.user, incidents, request.POST.get("action", ""), assignee)
    except ThreatError as error:
        messages.error(request, error.for_page())
        return redirect(_back(request))
    for error in errors:
        messages.error(request, error)
    if done:
        messages.success(request, _("%(n)s incident(s) updated.") % {"n": len(done)})
    return redirect(_back(request))


def _back(request) -> str:
    """Back to the queue as it was filtered (only our own page: never a URL from the form)."""
    query = request.POST.get("query", "")
    url = reverse("threat:alerts")
    return f"{url}?{query}" if query and "\n" not in query and "//" not in query else url


INCIDENT_ACTIONS = {"acknowledge": IncidentStatus.ACKNOWLEDGED, "resolve": IncidentStatus.RESOLVED}


@require_http_methods(["GET", "POST"])
def incident_detail(request, pk):
    require_scope(request.user)
    incident = get_object_or_404(scoped(Incident.objects.select_related(
        "county", "region", "agency", "site", "switch", "assignee"), request.user), pk=pk)
    if request.method == "POST":
        if not can_triage(request.user):
            raise PermissionDenied("THREAT_READ_ONLY: your role may read alerts but not triage them.")
        action = request.POST.get("action", "")
        try:
            if action in INCIDENT_ACTIONS:
                incident_service.change_status(incident, INCIDENT_ACTIONS[action], request.user)
            elif action == "assign":
                assignee = incident_service.assignable_users(incident).filter(
                    username=request.POST.get("assignee", "")[:150]).first()
                if assignee is None:
                    raise ThreatError("THREAT_ASSIGNEE_OUT_OF_SCOPE", "pick a user whose part of the network "
                                                                      "covers this incident.")
                incident_service.assign(incident, assignee, request.user)
            elif action == "contain":
                form = ContainForm(request.POST)
                if "release_after_minutes" in form.errors:
                    raise ChangeError("CHANGE_BAD_TIMEOUT", "release after 1 to 43200 whole minutes, or leave it "
                                                            "empty.")
                if "kind" in form.errors:
                    raise ThreatError("THREAT_CONTAINMENT_UNKNOWN", "choose how to contain the host.")
                minutes = form.cleaned_data["release_after_minutes"]
                proposal = producers.contain_incident(incident, form.cleaned_data["kind"], request.user,
                                                      release_after=minutes * 60 if minutes else None)
                messages.success(request, _("Change #%(pk)s proposed to contain the host; an engineer approves it.")
                                 % {"pk": proposal.change_id})
            else:
                raise ThreatError("THREAT_ACTION_UNKNOWN", "unknown action; reload the page.")
        except OneNetError as error:
            messages.error(request, error.for_page())
        return redirect("threat:incident", pk=incident.pk)
    proposal_service.sync_incidents([incident.pk])
    incident.refresh_from_db()
    allowed = INCIDENT_TRANSITIONS[IncidentStatus(incident.status)]
    return render(request, "threat/incident.html", {
        "incident": incident, "county": incident.county_display(),
        "alerts": incident.alerts.select_related("switch").order_by("-severity_rank", "-last_seen", "-pk"),
        "events": incident.events.select_related("actor"),
        "proposals": incident.proposals.select_related("change", "created_by", "alert"),
        "can_triage": can_triage(request.user),
        "actions": [name for name, target in INCIDENT_ACTIONS.items() if target in allowed],
        "assignees": incident_service.assignable_users(incident) if can_triage(request.user) else [],
        "containment_kinds": ContainmentKind.choices,
        "can_propose": incident.is_open and not incident.proposals.filter(
            state__in=[s.value for s in proposal_service.ACTIVE_PROPOSAL]).exists(),
        "located": proposal_service.containment_alert(incident) is not None})


class AlertList(TableView):
    """Every alert, one row per kind and source (the queue groups them by host)."""

    model = Alert
    title = _("All alerts")
    tabs_template = "threat/tabs.html"
    empty_message = _("No alerts.")
    select_related = ["agency", "site", "switch", "region"]
    columns = [Column("kind", _("Kind"), "get_kind_display"),
               Column("severity_rank", _("Severity"), "get_severity_display"),
               Column("status", _("Status"), "get_status_display"),
               Column("src", _("Source")), Column("dst", _("Destination")), Column("count", _("Count")),
               Column("agency__name", _("Agency")), Column("site__name", _("Site")),
               Column("switch__name", _("Switch")), Column("switch_port", _("Port")),
               Column("last_seen", _("Last seen")), Column("received_at", pgettext_lazy("alert time", "Received")),
               Column("incident_id", _("Incident"))]
    filters = [Filter("kind", _("Kind"), "kind", AlertKind.choices),
               Filter("severity", _("Severity"), "severity", Severity.choices),
               Filter("status", _("Status"), "status", AlertStatus.choices),
               Filter("county", _("County/district"), "region__path__startswith", county_choices),
               Filter("agency", _("Agency"), "agency__slug", agency_choices)]
    search_fields = ["src", "dst", "mac", "switch__name", "agency__name", "site__name"]
    default_sort = "-received_at"

    def filtered(self, request):
        queryset, active, q, sort = super().filtered(request)
        if sort == self.default_sort:  # the queue: the last received first, the most severe first among them
            queryset = queryset.order_by("-received_at", "-severity_rank", "-last_seen", "-pk")
        return queryset, active, q, sort

    @staticmethod
    def row_url(obj):
        return reverse("threat:alert", args=[obj.pk])


def can_triage(user) -> bool:
    return user_role(user) in TRIAGE_ROLES


ACTIONS = {"acknowledge": AlertStatus.ACKNOWLEDGED, "contain": AlertStatus.CONTAINED,
           "resolve": AlertStatus.RESOLVED, "false_positive": AlertStatus.FALSE_POSITIVE,
           "reopen": AlertStatus.ACKNOWLEDGED}


@require_http_methods(["GET", "POST"])
def alert_detail(request, pk):
    require_scope(request.user)
    alert = get_object_or_404(scoped(Alert.objects.select_related(
        "agency", "site", "region", "switch", "assignee", "incident"), request.user), pk=pk)
    if request.method == "POST":
        if not can_triage(request.user):
            raise PermissionDenied("THREAT_READ_ONLY: your role may read alerts but not triage them.")
        action = request.POST.get("action", "")
        try:
            if action in ACTIONS:
                alert_service.change_status(alert, ACTIONS[action], request.user)
            elif action == "assign_me":
                alert_service.assign(alert, request.user, request.user)
            elif action == "note":
                alert_service.add_note(alert, request.user, request.POST.get("text", ""))
            else:
                raise ThreatError("THREAT_ACTION_UNKNOWN", "unknown action; reload the page.")
        except ThreatError as error:
            messages.error(request, error.for_page())
        return redirect("threat:alert", pk=alert.pk)
    allowed = TRANSITIONS[AlertStatus(alert.status)]
    actions = [(name, target) for name, target in ACTIONS.items() if target in allowed and
               (name != "reopen" or not alert.is_open) and (name != "acknowledge" or alert.is_open)]
    return render(request, "threat/alert.html", {
        "alert": alert, "events": alert.events.select_related("actor"),
        "notes": alert.notes.select_related("author"),
        "containment_changes": alert.containment_changes.select_related("author").order_by("-created_at"),
        "can_triage": can_triage(request.user), "actions": actions,
        "containment_kinds": ContainmentKind.choices, "county": _county(alert)})


def _county(alert):
    if alert.region is None:
        return None
    return next((r for r in alert.region.ancestors() if r.level == RegionLevel.COUNTY), None)
