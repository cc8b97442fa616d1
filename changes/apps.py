from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Changes")

    def ready(self):
        from changes.services.library import templates
        from changes.signals import change_completed
        from web import registry

        registry.register_section("changes:index", _("Changes"), order=70)
        # The device's changes, after its config versions (collectors, 10) and compliance results (20).
        registry.register_device_panel("changes", "changes/device_panel.html", "changes.views.device_panel", order=25)
        templates()  # the built-in change templates are checked at start-up: a mistake stops it, naming it
        change_completed.connect(_containment_completed, dispatch_uid="changes.containment_completed")


def _containment_completed(sender, change, **kwargs):
    from changes.choices import Source
    from changes.services.producers import containment_completed

    if change.source == Source.CONTAINMENT:
        containment_completed(change)
