from django.contrib import admin

from web.models import Profile, SecurityEvent


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region"]
    list_filter = ["role"]
    autocomplete_fields = ["region"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: security events are evidence; nobody edits or deletes them from the console."""

    list_display = ["time", "kind", "username", "address", "device", "detail"]
    list_filter = ["kind"]
    search_fields = ["username", "address", "detail", "device__name"]
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
