from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectorsConfig(AppConfig):
    name = "collectors"
    verbose_name = _("Collectors")

    def ready(self):
        from web import registry

        registry.register_section("bandwidth:index", _("Bandwidth"), order=30)
        # State, polls and backups, the SSH host key, the interfaces with their rates and the links with their
        # bandwidth pages (the inventory's tables and more, so it replaces them), config versions.
        registry.register_device_panel("collectors", "collectors/device_panel.html", "collectors.views.device_panel",
                                       order=10, replaces=["interfaces", "links"])
        registry.register_metrics("collectors", "collectors.metrics.CollectorMetrics")
        # The Overview's devices not answering, busy links, expansion, backups, egress and availability cards.
        registry.register_overview("collectors", "collectors.services.overview.cards", order=10)
