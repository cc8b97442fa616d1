from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThreatConfig(AppConfig):
    name = "threat"
    verbose_name = _("Threat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from web import registry

        registry.register_section("threat:alerts", _("Alerts"), order=60)
        registry.register_metrics("threat", "threat.metrics.ThreatMetrics")
