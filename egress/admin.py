from django.contrib import admin

from egress.models import EgressResult


@admin.register(EgressResult)
class EgressResultAdmin(admin.ModelAdmin):
    """Read-only: results come from `egress verify`."""

    list_display = ("device", "rule", "status", "checked_at")
    list_select_related = ("device",)
    list_filter = ("rule", "status")
    search_fields = ("device__name", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
