from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "web"
    verbose_name = _("Console")

    def ready(self):
        from web import security  # noqa: F401 - connects the login-failure and lockout receivers
        from web.registry import register_section

        # The console's own pages; every other section is registered by its app (web.registry).
        register_section("overview", _("Overview"), order=10)
        register_section("coverage", _("Coverage"), order=20)
