"""The alert queue and one alert's page with its triage actions. Views declare; threat.services decide."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from inventory.choices import RegionLevel
from inventory.models import Agency, Region
from threat.choices import TRANSITIONS, TRIAGE_ROLES, AlertKind, AlertStatus, ContainmentKind, Severity
from threat.models import Alert
from threat.services import ThreatError
from threat.services import alerts as alert_service
from web.access import require_scope, scoped, user_role
from web.tables import Column, Filter, TableView


def county_choices(request):
    return list(scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user).values_list("path", "name"))


def agency_choices(request):
    return list(scoped(Agency.objects.all(), request.user).order_by("name").values_list("slug", "name"))


class AlertList(TableView):
    model = Alert
    title = _("Alerts")
    empty_message = _("No alerts.")
    select_related = ["agency", "site", "switch", "region"]
    columns = [Column("kind", _("Kind"), "get_kind_display"),
               Column("severity_rank", _("Severity"), "get_severity_display"),
               Column("status", _("Status"), "get_status_display"),
               Column("src", _("Source")), Column("dst", _("Destination")), Column("count", _("Count")),
               Column("agency__name", _("Agency")), Column("site__name", _("Site")),
               Column("switch__name", _("Switch")), Column("switch_port", _("Port")),
               Column("last_seen", _("Last seen")), Column("received_at", pgettext_lazy("alert time", "Received"))]
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
        "agency", "site", "region", "switch", "assignee"), request.user), pk=pk)
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
            messages.error(request, f"{error.code}: {error.message}")
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
