"""The admin shows changes and their audit log read-only: the log is append-only, and a change moves only
through the pipeline (so its audit stays true)."""

from django.contrib import admin

from changes.models import AuditEntry, ChangeRequest, ChangeTask


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnly):
    list_display = ("time", "change", "username", "device_name", "action", "outcome", "message")
    list_select_related = ("change",)
    list_filter = ("action", "outcome")
    search_fields = ("username", "device_name", "message")


class ChangeTaskInline(admin.TabularInline):
    model = ChangeTask
    fields = ("device", "batch", "status", "reason", "started_at", "finished_at")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnly):
    list_display = ("pk", "title", "status", "source", "author", "approved_by", "created_at")
    list_select_related = ("author", "approved_by")
    list_filter = ("status", "source")
    inlines = [ChangeTaskInline]
