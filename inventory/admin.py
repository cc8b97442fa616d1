from django import forms
from django.contrib import admin

from inventory.models import Agency, Credential, Device, Interface, Link, Prefix, Region, Site


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["region"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region", "agency", "expected"]
    list_filter = ["expected", "region__level"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["region", "agency"]


class CredentialForm(forms.ModelForm):
    """The secret is write-only: typed in, encrypted, never shown back."""

    new_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text="Leave empty to keep the current secret.")

    class Meta:
        model = Credential
        fields = ["name", "kind", "username"]

    def save(self, commit=True):
        credential = super().save(commit=False)
        if self.cleaned_data.get("new_secret"):
            credential.secret = self.cleaned_data["new_secret"]
        if commit:
            credential.save()
        return credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ["name", "kind", "username"]


class InterfaceInline(admin.TabularInline):
    model = Interface
    extra = 0


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "platform", "role", "site", "status"]
    list_filter = ["platform", "role", "status"]
    search_fields = ["name", "address"]
    autocomplete_fields = ["site"]
    inlines = [InterfaceInline]


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "capacity_bps", "tier"]
    list_filter = ["tier"]
    raw_id_fields = ["a_interface", "b_interface"]


@admin.register(Prefix)
class PrefixAdmin(admin.ModelAdmin):
    list_display = ["prefix", "agency", "site", "region", "description"]
    search_fields = ["prefix", "description"]
    raw_id_fields = ["agency", "site", "region"]
