from django.contrib import admin

from threat.models import Alert, AlertEvent, AlertNote, ContainmentProposal, Incident, IncidentEvent


class TimelineInline(admin.TabularInline):
    """A timeline (threat.models.TimelineEvent) shown read-only under its alert or incident."""

    extra = 0
    readonly_fields = ["time", "kind", "actor", "from_status", "to_status", "text"]


class AlertEventInline(TimelineInline):
    model = AlertEvent


class AlertNoteInline(admin.TabularInline):
    model = AlertNote
    extra = 0
    readonly_fields = ["created_at", "author"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "severity", "status", "src", "dst", "count", "agency", "switch", "switch_port",
                    "last_seen", "received_at"]
    list_filter = ["kind", "severity", "status", "source"]
    search_fields = ["src", "dst", "mac"]
    readonly_fields = ["evidence", "first_seen", "last_seen", "received_at", "count", "created_at", "updated_at"]
    list_select_related = ["agency", "switch"]
    raw_id_fields = ["region", "agency", "site", "switch", "assignee", "incident"]
    inlines = [AlertNoteInline, AlertEventInline]


class IncidentEventInline(TimelineInline):
    model = IncidentEvent


class ContainmentProposalInline(admin.TabularInline):
    model = ContainmentProposal
    extra = 0
    readonly_fields = ["kind", "state", "change", "alert", "created_by", "created_at", "verified_at", "closed_at"]
    raw_id_fields = ["change", "alert"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["src", "status", "severity", "kinds", "alert_count", "agency", "switch", "switch_port",
                    "assignee", "containment", "received_at"]
    list_filter = ["status", "severity", "containment"]
    list_select_related = ["agency", "switch", "assignee"]
    search_fields = ["src", "mac"]
    readonly_fields = ["severity", "kinds", "alert_count", "first_seen", "last_seen", "received_at", "containment",
                       "created_at", "updated_at", "resolved_at"]
    raw_id_fields = ["region", "county", "agency", "site", "switch", "assignee"]
    inlines = [ContainmentProposalInline, IncidentEventInline]
