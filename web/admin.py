from django.contrib import admin

from web.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region"]
    list_filter = ["role"]
    autocomplete_fields = ["region"]
