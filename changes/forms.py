"""The change pages' forms: they parse and bound what a user typed; the services decide what may happen.

`ChangeForm` resolves its targets (device names, and/or every device of a region with a role) inside the user's
part of the network only, and gathers the per-platform text; `requests.plan_from_text` and `requests.create` then
check lines, roles, scope and limits with their own error codes.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from changes.services.library import templates
from changes.services.requests import CONFIRM_TIMEOUT, MAX_DEVICES
from inventory.choices import DeviceRole, DeviceStatus, Platform, RegionLevel
from inventory.models import Device, Region
from web.access import scoped

# The text fields, one per platform slug, and "*": the same text for every platform.
PLATFORM_FIELDS = [(f"text_{slug}", slug, label) for slug, label in Platform.choices]
ALL_PLATFORMS_FIELD = "text_all"
MAX_TEXT = 512 * 1024  # a change holds at most 2000 lines of 512 characters (changes.services.requests)
MAX_NAMES = 64 * 1024
TARGET_LEVELS = (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP)


def _text(label):
    return forms.CharField(label=label, required=False, max_length=MAX_TEXT, strip=False,
                           widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false",
                                                        "class": "config"}))


class ChangeForm(forms.Form):
    template = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    device_names = forms.CharField(label=_("Devices (one name a line)"), required=False, max_length=MAX_NAMES,
                                   widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))
    region = forms.ChoiceField(label=_("And every device of the region"), required=False)
    role = forms.ChoiceField(label=_("with the role"), required=False,
                             choices=[("", _("Any role"))] + list(DeviceRole.choices))
    text_all = _text(_("Same text for every platform"))
    confirm_timeout = forms.IntegerField(label=_("Confirm within (seconds)"), min_value=CONFIRM_TIMEOUT[0],
                                         max_value=CONFIRM_TIMEOUT[1])
    auto_confirm = forms.BooleanField(label=_("Confirm automatically when the post-check passes"), required=False,
                                      initial=True)
    pilot_size = forms.IntegerField(label=_("Pilot devices (pushed first, alone)"), min_value=0, max_value=MAX_DEVICES,
                                    initial=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["confirm_timeout"].initial = settings.ONENET_CHANGE_CONFIRM_TIMEOUT_S
        for name, _slug, label in PLATFORM_FIELDS:
            self.fields[name] = _text(label)
        regions = scoped(Region.objects.filter(level__in=TARGET_LEVELS), user).order_by("path")
        self.fields["region"].choices = [("", "—")] + [
            (r.slug, ("└ " if r.level == RegionLevel.TOWNSHIP else "") + r.name) for r in regions]

    @property
    def platform_fields(self):
        """The per-platform text boxes, then the one for every platform, as bound fields."""
        return [self[name] for name, _slug, _label in PLATFORM_FIELDS] + [self[ALL_PLATFORMS_FIELD]]

    def clean(self):
        data = super().clean()
        names = [line.strip() for line in (data.get("device_names") or "").splitlines() if line.strip()]
        names = list(dict.fromkeys(names))
        slug, role = data.get("region") or "", data.get("role") or ""
        if not names and not slug and not role:
            raise forms.ValidationError(_("Name the devices, or pick a region (and a role) whose devices to change."))
        in_scope = scoped(Device.objects.select_related("site__region"), self.user)
        devices = {}
        if names:
            found = {d.name: d for d in in_scope.filter(name__in=names)}
            missing = [name for name in names if name not in found]
            if missing:
                shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
                self.add_error("device_names", _("Not in your part of the network (or no such device): %(names)s")
                               % {"names": shown})
            devices.update(found)
        if slug or role:
            picked = in_scope.filter(status=DeviceStatus.ACTIVE)
            if slug:
                region = scoped(Region.objects.all(), self.user).filter(slug=slug).first()
                if region is None:
                    self.add_error("region", _("Choose a region of your part of the network."))
                    return data
                picked = picked.filter(site__region__path__startswith=region.path)
            if role:
                picked = picked.filter(role=role)
            picked = list(picked[:MAX_DEVICES + 1])
            if not picked:
                self.add_error("region", _("No active device of your part of the network is in that region with "
                                           "that role."))
            devices.update({d.name: d for d in picked})
        data["devices"] = sorted(devices.values(), key=lambda d: d.name)
        candidate = {slug: data[name] for name, slug, _label in PLATFORM_FIELDS if (data.get(name) or "").strip()}
        if (data.get(ALL_PLATFORMS_FIELD) or "").strip():
            candidate["*"] = data[ALL_PLATFORMS_FIELD]
        if not candidate:
            self.add_error(ALL_PLATFORMS_FIELD, _("Write the config lines the devices should get."))
        data["candidate"] = candidate
        region_name = dict(self.fields["region"].choices).get(slug, "").removeprefix("└ ") if slug else ""
        described = [", ".join(names)] if names else []
        if slug or role:
            described.append(" · ".join(str(part) for part in (region_name, dict(DeviceRole.choices).get(role, ""))
                                        if part))
        data["targets"] = "; ".join(described)[:500]
        return data

    def initial_from_template(self, key: str) -> bool:
        """Prefill title, reason and texts from a built-in template; False when there is no such template."""
        template = templates().get(key)
        if template is None:
            return False
        self.initial.update({"template": template.key, "title": template.shown_title,
                             "reason": template.shown_reason})
        for name, slug, _label in PLATFORM_FIELDS:
            self.initial[name] = template.platforms.get(slug, "")
        return True


class ResolveForm(forms.Form):
    """An engineer says what a flagged device holds after checking it by hand."""

    kept = forms.TypedChoiceField(label=_("The device now holds"), coerce=lambda value: value == "kept",
                                  choices=[("kept", _("the change (kept)")),
                                           ("rolled_back", _("its config from before (rolled back by hand)"))])
    note = forms.CharField(label=_("What you found"), max_length=1000)


class ContainForm(forms.Form):
    kind = forms.ChoiceField(choices=[("shutdown-port", _("Shut the switch port")),
                                      ("acl-block-host", _("Block the host with an ACL"))])
    release_after_minutes = forms.IntegerField(required=False, min_value=1, max_value=30 * 24 * 60)
