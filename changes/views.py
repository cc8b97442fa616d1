"""The Changes pages: the list, the form to write a change, one change with its dry run, decisions, live progress
and audit log, the buttons other pages post here (findings, the egress roll-out, containment), and the device
page's panel. Views declare; changes.services decide (role, scope, four eyes, status), and what they refuse is
shown as a message or on the form with its code, never as a 500.

Diffs, config lines and device answers are the devices' (hostile) text: they reach pages through Django's
escaping only and exports through web.tables.safe_cell, and every role but admin sees them with secrets masked
by the platform's rules (policies.services.VisibleLines, as the compliance pages do).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changes.choices import CHANGE_ROLES, CONTAIN_ROLES, OPEN_CHANGE, ChangeStatus, Source, TaskStatus
from changes.forms import ChangeForm, ContainForm, ResolveForm
from changes.models import AuditEntry, ChangeRequest, ChangeTask
from changes.services import audit, library, pipeline, producers, requests
from collectors.services.configs import shows_secrets
from inventory.models import Device
from policies.services import VisibleLines
from web.access import require_scope, scoped, user_role
from web.errors import OneNetError
from web.tables import EXPORT_LIMIT, Column, Filter, TableView, escape_controls, export_response, query_value

# A change that still moves by itself: its page follows it (changes/static/changes/progress.js).
LIVE = (ChangeStatus.PREPARING, ChangeStatus.APPROVED, ChangeStatus.RUNNING, ChangeStatus.AWAITING_CONFIRM)
DIFF_HEADERS = ("--- ", "+++ ", "@@")
AUDIT_HEADER = {"time": _("Time"), "change": pgettext_lazy("change request", "Change"), "user": _("User"),
                "device": _("Device"), "action": _("Action"), "outcome": _("Outcome"), "message": _("Message"),
                "diff": _("Diff")}
PANEL_TASKS = 20
PANEL_AUDIT = 30


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _error(request, error: OneNetError) -> None:
    messages.error(request, error.for_page())


def _back(request, fallback: str):
    """Back to the page the form was on (`next`, this site only), else to `fallback` (a URL name)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


# -- what a user may see of the devices' text ---------------------------------------------------------------------
def visible_diff(user, slug: str, diff: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs, as `user` may see it: control characters shown visibly and, for
    every role but admin, secrets masked. The bodies are masked together, hunk by hunk, so a line's section is
    known to the platform's rules (a hunk header stands for a new top-level line)."""
    if not diff:
        return []
    lines = diff.split("\n")
    heads, bodies = [], []
    for line in lines:
        if line.startswith(DIFF_HEADERS):
            heads.append(None)
            bodies.append("@@")
        else:
            heads.append(line[:1])
            bodies.append(line[1:])
    masked = VisibleLines(user, slug).lines(bodies)
    out = []
    for line, head, body in zip(lines, heads, masked, strict=True):
        if head is None:
            out.append(("hunk" if line.startswith("@@") else "head", escape_controls(line)))
        else:
            out.append(({"+": "add", "-": "del"}.get(head, ""), escape_controls(head) + body))
    return out


def _diff_text(user, slug: str, diff: str) -> str:
    return "\n".join(line for _css, line in visible_diff(user, slug, diff))


def _entry_slug(entry: AuditEntry) -> str:
    return entry.device.platform if entry.device is not None else ""


def _audit_rows(user, entries) -> list[dict]:
    rows = []
    for entry in entries:
        visible = VisibleLines(user, _entry_slug(entry))
        rows.append({"entry": entry, "message": visible.message(entry.message),
                     "diff": visible_diff(user, _entry_slug(entry), entry.diff)})
    return rows


def _export_audit(user, entries, kind: str, name: str):
    entries = list(entries[:EXPORT_LIMIT])
    rows = audit.export_rows(entries)
    for entry, row in zip(entries, rows, strict=True):
        visible = VisibleLines(user, _entry_slug(entry))
        row[0] = entry.time  # a time: export_response writes it in the configured zone
        row[6] = visible.message(row[6])
        row[7] = _diff_text(user, _entry_slug(entry), entry.diff)
    header = [str(AUDIT_HEADER.get(column, column)) for column in audit.EXPORT_COLUMNS]
    return export_response(header, rows, kind, name)


def _export_kind(request) -> str:
    kind = request.GET.get("export", "csv")
    if kind not in ("csv", "xlsx"):
        raise Http404("export csv or xlsx")
    return kind


# -- the list ------------------------------------------------------------------------------------------------------
class ChangeList(TableView):
    """The changes the user's scope covers, newest first."""

    model = ChangeRequest
    title = _("Changes")
    template_name = "changes/index.html"
    empty_message = _("No change yet.")
    columns = [Column("title", _("Title")), Column("pk", "#"), Column("status", _("Status"), "get_status_display"),
               Column("source", _("Source"), "get_source_display"), Column("region__name", _("Region")),
               Column("device_count", _("Devices")), Column("author__username", _("Author")),
               Column("approved_by__username", _("Approved by")), Column("created_at", _("Created")),
               Column("finished_at", _("Finished"))]
    filters = [Filter("status", _("Status"), "status", ChangeStatus.choices),
               Filter("source", _("Source"), "source", Source.choices)]
    search_fields = ["title"]
    default_sort = "-created_at"

    def base_queryset(self):
        return requests.visible_changes(self.request.user).annotate(device_count=Count("tasks"))

    @staticmethod
    def row_url(obj):
        return reverse("changes:detail", args=[obj.pk])

    def extra_context(self, request):
        return {"may_change": user_role(request.user) in CHANGE_ROLES, "templates": library.templates().values()}

    def export(self, queryset, kind):
        rows = ([c.value(obj) for c in self.columns] for obj in queryset.iterator(chunk_size=2000))
        return export_response([str(c.label) for c in self.columns], rows, kind, "changes")


# -- writing a change ----------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def create(request):
    """The form; a valid one becomes a change whose dry run starts at once (a worker reads every device)."""
    require_scope(request.user)
    if user_role(request.user) not in CHANGE_ROLES:
        raise PermissionDenied("CHANGE_NOT_ALLOWED: engineers and administrators write changes.")
    if request.method == "POST":
        form = ChangeForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            source = Source.TEMPLATE if data["template"] in library.templates() else Source.MANUAL
            try:
                plan = requests.plan_from_text(data["devices"], data["candidate"], data["title"], data["reason"],
                                               source=source, targets=data["targets"])
                change = requests.create(request.user, plan, confirm_timeout=data["confirm_timeout"],
                                         auto_confirm=data["auto_confirm"], pilot_size=data["pilot_size"],
                                         candidate=data["candidate"])
                pipeline.prepare_soon(change)
            except OneNetError as error:
                form.add_error(None, error.for_page())
            else:
                messages.success(request, _("Change #%(pk)s created; the dry run reads each device now.")
                                 % {"pk": change.pk})
                return redirect("changes:detail", pk=change.pk)
    else:
        form = ChangeForm(user=request.user)
        key = query_value(request, "template")
        if key and not form.initial_from_template(key):
            messages.error(request, _("There is no such template; start from an empty change."))
    return render(request, "changes/create.html", {"form": form, "templates": library.templates().values()})


# -- one change ----------------------------------------------------------------------------------------------------
def _visible_change(request, pk) -> ChangeRequest:
    require_scope(request.user)
    return get_object_or_404(requests.visible_changes(request.user), pk=pk)


def _tasks(change: ChangeRequest):
    return change.tasks.select_related("device__site__region").order_by("batch", "device__name", "pk")


@require_GET
def detail(request, pk):
    change = _visible_change(request, pk)
    user, role = request.user, user_role(request.user)
    tasks = list(_tasks(change))
    rows = []
    for task in tasks:
        visible = VisibleLines(user, task.device.platform)
        rows.append({"task": task, "reason": visible.message(task.reason), "lines": visible.lines(task.lines),
                     "diff": visible_diff(user, task.device.platform, task.diff)})
    may_change = role in CHANGE_ROLES
    is_author = change.author_id == user.pk
    awaiting = change.status == ChangeStatus.AWAITING_APPROVAL
    self_approval = settings.ONENET_CHANGE_FOUR_EYES and is_author
    waiting = [t for t in tasks if t.status == TaskStatus.AWAITING_CONFIRM]
    flagged = [t for t in tasks if t.status == TaskStatus.NEEDS_ATTENTION]
    why_no_approve = ""
    if awaiting and not may_change:
        why_no_approve = _("Your role reads changes; an engineer or an administrator of the region approves them.")
    elif awaiting and self_approval:
        why_no_approve = _("You wrote this change: another engineer must approve it (four eyes).")
    entries = change.audit.select_related("device").order_by("time", "pk")
    return render(request, "changes/detail.html", {
        "change": change, "rows": rows, "live": change.status in LIVE,
        "may_approve": awaiting and may_change and not self_approval, "why_no_approve": why_no_approve,
        "may_reject": may_change and change.status in (ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED),
        "may_cancel": change.status in (ChangeStatus.PREPARING, ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED)
        and role in (CONTAIN_ROLES if is_author else CHANGE_ROLES),
        "may_confirm": may_change and bool(waiting), "may_rollback": may_change and bool(waiting or flagged),
        "may_resolve": may_change, "waiting": waiting, "resolve_form": ResolveForm(),
        "audit_rows": _audit_rows(user, entries), "pilot": any(t.batch == 0 for t in tasks),
        "masked": not shows_secrets(user)})


@require_GET
def progress(request, pk):
    """Where the change is: its status and each device's, for the page to follow without reloading."""
    change = _visible_change(request, pk)
    tasks = []
    for task in _tasks(change):
        visible = VisibleLines(request.user, task.device.platform)
        tasks.append({"id": task.pk, "device": task.device.name, "status": task.status,
                      "status_label": str(task.get_status_display()), "reason": visible.message(task.reason),
                      "confirm_deadline": _local(task.confirm_deadline)
                      if task.status == TaskStatus.AWAITING_CONFIRM else ""})
    return JsonResponse({"change": change.pk, "status": change.status, "status_label": str(change.get_status_display()),
                         "live": change.status in LIVE, "tasks": tasks})


ACTIONS = ("approve", "reject", "cancel", "confirm", "rollback")


@require_POST
def act(request, pk):
    """approve / reject / cancel / confirm / roll back: the services check role, scope, four eyes and status."""
    change = _visible_change(request, pk)
    action, note = request.POST.get("action", ""), request.POST.get("note", "")[:1000]
    try:
        if action == "approve":
            requests.approve(change, request.user, note)
            messages.success(request, _("Change #%(pk)s approved; the roll-out starts.") % {"pk": change.pk})
        elif action == "reject":
            requests.reject(change, request.user, note)
            messages.success(request, _("Change #%(pk)s rejected.") % {"pk": change.pk})
        elif action == "cancel":
            requests.cancel(change, request.user)
            messages.success(request, _("Change #%(pk)s cancelled.") % {"pk": change.pk})
        elif action == "confirm":
            count = requests.confirm(change, request.user)
            messages.success(request, ngettext("Confirming %(n)s device.", "Confirming %(n)s devices.", count)
                             % {"n": count})
        elif action == "rollback":
            count = requests.rollback(change, request.user)
            messages.success(request, ngettext("Rolling back %(n)s device.", "Rolling back %(n)s devices.", count)
                             % {"n": count})
        else:
            messages.error(request, _("Unknown action; reload the page."))
    except OneNetError as error:
        _error(request, error)
    return redirect("changes:detail", pk=change.pk)


@require_POST
def resolve(request, pk):
    """An engineer checked a flagged device by hand and says what it holds now."""
    require_scope(request.user)
    task = get_object_or_404(ChangeTask.objects.filter(change__in=requests.visible_changes(request.user))
                             .select_related("change__region", "device"), pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what the device holds now and what you found."))
    else:
        try:
            requests.mark_resolved(task, request.user, form.cleaned_data["kept"], form.cleaned_data["note"])
            messages.success(request, _("%(device)s marked resolved.") % {"device": task.device.name})
        except OneNetError as error:
            _error(request, error)
    return redirect("changes:detail", pk=task.change_id)


@require_GET
def audit_export(request, pk):
    """The change's audit log as CSV or XLSX (`?export=`)."""
    change = _visible_change(request, pk)
    return _export_audit(request.user, change.audit.select_related("device").order_by("time", "pk"),
                         _export_kind(request), f"change-{change.pk}-audit")


@require_GET
def device_audit_export(request, pk):
    """One device's audit entries, of the changes the user may see, as CSV or XLSX."""
    require_scope(request.user)
    device = get_object_or_404(scoped(Device.objects.all(), request.user), pk=pk)
    entries = AuditEntry.objects.filter(device=device, change__in=requests.visible_changes(request.user))
    return _export_audit(request.user, entries.select_related("device").order_by("time", "pk"),
                         _export_kind(request), f"device-{device.pk}-audit")


# -- changes other pages ask for -------------------------------------------------------------------------------------
def _ids(values) -> list[int]:
    return [int(v) for v in values[:5000] if v.isdigit() and len(v) < 12]


@require_POST
def from_findings(request):
    """A change fixing the failing compliance results picked on the findings, result or device page."""
    from policies.models import RuleResult

    require_scope(request.user)
    results = list(RuleResult.objects.filter(pk__in=_ids(request.POST.getlist("result"))))
    try:
        change = producers.from_findings(request.user, results, reason=request.POST.get("reason", "")[:4000])
    except OneNetError as error:
        _error(request, error)
        return _back(request, "compliance:findings")
    messages.success(request, _("Change #%(pk)s created from the findings; the dry run reads each device now.")
                     % {"pk": change.pk})
    return redirect("changes:detail", pk=change.pk)


@require_POST
def egress_rollout(request):
    """A change putting the unified egress policy onto the devices of the user's scope that fail it."""
    require_scope(request.user)
    try:
        change = producers.egress_rollout(request.user, reason=request.POST.get("reason", "")[:4000])
    except OneNetError as error:
        _error(request, error)
        return _back(request, "egress:index")
    messages.success(request, _("Change #%(pk)s created for the egress policy; the dry run reads each device now.")
                     % {"pk": change.pk})
    return redirect("changes:detail", pk=change.pk)


@require_POST
def contain(request, alert_id):
    """A containment change for an alert's located host: its switch port shut, or the host blocked by an ACL."""
    from threat.models import Alert

    require_scope(request.user)
    alert = get_object_or_404(scoped(Alert.objects.all(), request.user), pk=alert_id)
    form = ContainForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to contain the host (shut the port or block the host), and a release "
                                  "time in whole minutes."))
        return redirect("threat:alert", pk=alert.pk)
    minutes = form.cleaned_data["release_after_minutes"]
    try:
        change = producers.contain(alert, form.cleaned_data["kind"], request.user,
                                   release_after=minutes * 60 if minutes else None)
    except OneNetError as error:
        _error(request, error)
        return redirect("threat:alert", pk=alert.pk)
    messages.success(request, _("Change #%(pk)s created to contain the alert; the dry run reads the switch now.")
                     % {"pk": change.pk})
    return redirect("changes:detail", pk=change.pk)


# -- the device page's panel -----------------------------------------------------------------------------------------
def device_panel(request, device: Device) -> dict:
    """The device's changes (newest first) and their audit entries, of the changes the user may see; the device
    page calls it only for a device in the user's scope."""
    visible = requests.visible_changes(request.user)
    tasks = (ChangeTask.objects.filter(device=device, change__in=visible).select_related("change")
             .order_by("-change__created_at", "-pk")[:PANEL_TASKS])
    visible_lines = VisibleLines(request.user, device.platform)
    rows = [{"task": task, "reason": visible_lines.message(task.reason), "open": task.change.status in OPEN_CHANGE}
            for task in tasks]
    entries = (AuditEntry.objects.filter(device=device, change__in=visible).select_related("device")
               .order_by("-time", "-pk")[:PANEL_AUDIT])
    return {"change_rows": rows, "change_audit_rows": _audit_rows(request.user, entries),
            "may_change": user_role(request.user) in CHANGE_ROLES}
