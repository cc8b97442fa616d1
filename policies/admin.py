"""Compliance in the Django admin: results and their history read only (the engine writes them), waivers editable."""

from django.contrib import admin

from policies.models import RuleEvent, RuleResult, ScoreSnapshot, Waiver


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleResult)
class RuleResultAdmin(ReadOnlyAdmin):
    list_display = ["device", "rule", "status", "severity", "checked_at", "since"]
    list_filter = ["status", "severity", "rule"]
    search_fields = ["device__name", "rule"]
    list_select_related = ["device"]


@admin.register(RuleEvent)
class RuleEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "device", "rule", "previous", "status"]
    list_filter = ["status", "rule"]
    search_fields = ["device__name", "rule"]
    list_select_related = ["device"]


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["date", "region", "passed", "failed", "waived", "not_applicable", "devices"]
    list_filter = ["date"]
    list_select_related = ["region"]


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    list_display = ["rule", "device", "region", "owner", "reason", "created_at", "expires_at"]
    list_filter = ["rule", "expires_at"]
    search_fields = ["rule", "device__name", "region__name", "reason", "owner__username"]
    raw_id_fields = ["device"]
    list_select_related = ["device", "region", "owner"]

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}
