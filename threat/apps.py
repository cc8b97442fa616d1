from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThreatConfig(AppConfig):
    name = "threat"
    verbose_name = _("Threat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from changes.signals import change_completed
        from threat.signals import incident_resolved
        from web import registry

        registry.register_section("threat:alerts", _("Alerts"), order=60)
        registry.register_metrics("threat", "threat.metrics.ThreatMetrics")
        # A completed containment change moves its incident's proposal to applied (and the incident to contained).
        change_completed.connect(_sync_proposal, dispatch_uid="threat.sync_proposal")
        incident_resolved.connect(_close_proposals, dispatch_uid="threat.close_proposals")


def _sync_proposal(sender, change, **kwargs):
    from threat.services.proposals import sync_change

    sync_change(change)


def _close_proposals(sender, incident, user, **kwargs):
    from threat.services.proposals import close_for

    close_for(incident, user)
