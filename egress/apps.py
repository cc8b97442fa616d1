import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


class EgressConfig(AppConfig):
    name = "egress"
    verbose_name = _("Egress")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks

        from collectors.signals import config_changed
        from web import registry

        registry.register_section("egress:index", _("Egress"), order=50)
        checks.register(check_policy)  # the policy file is checked at start-up: a mistake names file, line and field
        config_changed.connect(_verify_new_version, dispatch_uid="egress.verify_new_version")


def check_policy(app_configs=None, **kwargs):
    from django.core.checks import Error

    from egress.services.policy import default_policy
    from web.errors import OneNetError

    try:
        default_policy()
    except OneNetError as error:
        return [Error(error.message, hint="Fix egress/policy.yaml where each problem says.", id="egress.E001")]
    return []


def _verify_new_version(sender, device, version, **kwargs):
    """A backup stored a new config: verify that device again (a failure here never fails the backup)."""
    from egress.services.verify import verify_devices
    from inventory.models import Device

    try:
        verify_devices(Device.objects.filter(pk=device.pk))
    except Exception:  # noqa: BLE001 - the backup goes on; the next `egress verify` reports the problem
        log.exception("egress verification of %s after its backup failed", device)
