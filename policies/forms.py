"""The waiver form: who may waive what, where, and for how long.

An engineer or administrator waives inside their own region only: a device of their scope, a rule across a
region of their scope, or (whole-network users only) a rule everywhere. The owner is the user who saves it; the
expiry is a date, required, from today up to MAX_WAIVER_DAYS ahead (the waiver lasts to the end of that day).
"""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Device, Region
from policies.models import Waiver
from policies.rules import rule_set
from policies.services import SNAPSHOT_LEVELS
from web.access import WHOLE_NETWORK, scope_path, scoped

MAX_WAIVER_DAYS = 365  # an exception is reviewed at least once a year
WAIVER_ROLES = ("engineer", "admin")  # managers and security analysts read waivers

DEVICE, REGION, EVERYWHERE = "device", "region", "everywhere"


class WaiverForm(forms.Form):
    scope = forms.ChoiceField(label=_("Waive"), choices=[
        (DEVICE, _("One device (one rule, or all its rules)")), (REGION, _("A rule across a region")),
        (EVERYWHERE, _("A rule everywhere"))])
    device = forms.CharField(label=_("Device name"), max_length=80, required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    rule = forms.ChoiceField(label=_("Rule"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    valid_until = forms.DateField(label=_("Valid until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.whole_network = scope_path(user) == WHOLE_NETWORK
        if not self.whole_network:
            self.fields["scope"].choices = [c for c in self.fields["scope"].choices if c[0] != EVERYWHERE]
        regions = scoped(Region.objects.filter(level__in=SNAPSHOT_LEVELS), user).order_by("path")
        self.fields["region"].choices = [("", "—")] + [(r.slug, ("└ " if r.level == "township" else "") + r.name)
                                                       for r in regions]
        self.fields["rule"].choices = [("", _("All rules of the device"))] + [
            (rule.id, f"{rule.id} · {rule.shown_title}") for rule in rule_set().rules]

    def clean_valid_until(self):
        day = self.cleaned_data["valid_until"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(_("The waiver must end in the future."))
        if day > today + timedelta(days=MAX_WAIVER_DAYS):
            raise forms.ValidationError(_("A waiver lasts at most %(days)s days; review it again then.")
                                        % {"days": MAX_WAIVER_DAYS})
        return day

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the rule is waived."))
        return reason

    def clean(self):
        data = super().clean()
        kind, rule = data.get("scope"), data.get("rule", "")
        if kind == DEVICE:
            name = (data.get("device") or "").strip()
            device = scoped(Device.objects.select_related("site__region"), self.user).filter(name=name).first() \
                if name else None
            if device is None:
                self.add_error("device", _("No device of that name in your part of the network."))
            data["device_object"] = device
        elif kind == REGION:
            slug = data.get("region") or ""
            region = scoped(Region.objects.all(), self.user).filter(slug=slug).first() if slug else None
            if region is None:
                self.add_error("region", _("Choose a region of your part of the network."))
            data["region_object"] = region
        elif kind == EVERYWHERE and not self.whole_network:
            self.add_error("scope", _("Only a user who sees the whole network waives a rule everywhere."))
        if kind in (REGION, EVERYWHERE) and not rule:
            self.add_error("rule", _("Name the rule to waive."))
        return data

    def save(self) -> Waiver:
        data = self.cleaned_data
        day_after = data["valid_until"] + timedelta(days=1)
        expires_at = timezone.make_aware(datetime.combine(day_after, time.min))  # the end of the chosen day, locally
        return Waiver.objects.create(
            rule=data.get("rule", ""), device=data.get("device_object") if data["scope"] == DEVICE else None,
            region=data.get("region_object") if data["scope"] == REGION else None, owner=self.user,
            reason=data["reason"], expires_at=expires_at)
