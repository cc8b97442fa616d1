from django.contrib import admin

from threat.models import Alert, AlertEvent, AlertNote


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    readonly_fields = ["time", "kind", "actor", "from_status", "to_status", "text"]


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
    raw_id_fields = ["region", "agency", "site", "switch", "assignee"]
    inlines = [AlertNoteInline, AlertEventInline]
