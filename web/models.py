"""Who may see what: every console user has a role and a place in the administrative tree."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.choices import Role


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # The subtree the user sees and changes; empty means the whole network.
    region = models.ForeignKey("inventory.Region", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("scope"))

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self):
        return f"{self.user.get_username()} ({self.role})"


class SecurityEventKind(models.TextChoices):
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOCKED_OUT = "locked_out", _("Account locked out")
    HOSTKEY_PINNED = "hostkey_pinned", _("SSH host key pinned")
    HOSTKEY_CHANGED = "hostkey_changed", _("SSH host key changed (refused)")
    HOSTKEY_ACCEPTED = "hostkey_accepted", _("Changed SSH host key accepted")
    CREDENTIAL_KEY_ROTATED = "credential_key_rotated", _("Credential key rotated")


class SecurityEvent(models.Model):
    """What an administrator reviews: failed logins, lockouts, host-key changes. Written, never edited."""

    time = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=SecurityEventKind.choices)
    username = models.CharField(_("user"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    device = models.ForeignKey("inventory.Device", models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("device"))
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        ordering = ["-time", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"
