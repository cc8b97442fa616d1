from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "web"
    verbose_name = _("Console")

    def ready(self):
        from web import security  # noqa: F401 - connects the login-failure and lockout receivers
