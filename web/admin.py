from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from web.models import Profile, SecurityEvent

# The admin carries the console's name, not Django's.
ADMIN_TITLE = _("OneNet one network")
admin.site.site_header = ADMIN_TITLE
admin.site.site_title = ADMIN_TITLE
admin.site.index_title = _("Administration")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region"]
    list_filter = ["role"]
    list_select_related = ["user", "region"]
    autocomplete_fields = ["region"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: security events are evidence; nobody edits or deletes them from the console."""

    list_display = ["time", "kind", "username", "address", "device", "detail"]
    list_filter = ["kind"]
    search_fields = ["username", "address", "detail", "device__name"]
    date_hierarchy = "time"
    list_select_related = ["device"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
