from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Compliance")

    def ready(self):
        from collectors.signals import config_changed
        from policies.rules import rule_set
        from web import registry

        registry.register_section("compliance:overview", _("Compliance"), order=40)
        # Every rule's result on the device with evidence and remediation, and its waivers; after the collectors'.
        registry.register_device_panel("compliance", "policies/device_panel.html", "policies.views.device_panel",
                                       order=20)
        registry.register_overview("policies", "policies.overview.cards", order=40)  # compliance per county

        rule_set()  # the rule files are checked at start-up: a mistake stops it, naming file, line and field
        config_changed.connect(_check_new_version, dispatch_uid="policies.check_new_version")


def _check_new_version(sender, device, version, **kwargs):
    from policies.services import check_device

    check_device(device, version)
