from django import forms
from django.contrib import admin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    BIT_RATE_MAX,
    IF_INDEX_RANGE,
    Agency,
    Credential,
    Device,
    Interface,
    Link,
    Prefix,
    Region,
    Site,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "level", "parent"]
    list_select_related = ["parent"]
    list_filter = ["level"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region"]
    list_select_related = ["region"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["region"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region", "agency", "expected"]
    list_select_related = ["region", "agency"]
    list_filter = ["expected", "region__level"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["region", "agency"]


class CredentialForm(forms.ModelForm):
    """The secret is write-only: typed in, encrypted, never shown back."""

    new_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text="Leave empty to keep the current secret.")

    class Meta:
        model = Credential
        fields = ["name", "kind", "username", "snmp_version"]

    def clean_new_secret(self):
        # A credential without a secret would fail every device that uses it, at the next poll or backup.
        secret = self.cleaned_data.get("new_secret", "")
        if not secret and not (self.instance.pk and self.instance.secret_encrypted):
            raise forms.ValidationError(_("Enter the secret: a credential needs one."))
        return secret

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


class InterfaceInlineForm(forms.ModelForm):
    """The ranges `inventory import` checks, for the numbers the Interface model leaves unbounded."""

    RANGES = {"if_index": IF_INDEX_RANGE, "speed_bps": (0, BIT_RATE_MAX)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.RANGES.items():
            self.fields[name].validators += [MinValueValidator(low), MaxValueValidator(high)]


class InterfaceInline(admin.TabularInline):
    model = Interface
    form = InterfaceInlineForm
    extra = 0


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "platform", "role", "site", "status"]
    list_select_related = ["site"]
    list_filter = ["platform", "role", "status"]
    search_fields = ["name", "address"]
    autocomplete_fields = ["site"]
    inlines = [InterfaceInline]


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "capacity_bps", "tier"]
    list_select_related = ["a_interface__device", "b_interface__device"]  # its name is both ends'
    list_filter = ["tier"]
    raw_id_fields = ["a_interface", "b_interface"]


@admin.register(Prefix)
class PrefixAdmin(admin.ModelAdmin):
    list_display = ["prefix", "agency", "site", "region", "description"]
    list_select_related = ["agency", "site", "region"]
    search_fields = ["prefix", "description"]
    raw_id_fields = ["agency", "site", "region"]
