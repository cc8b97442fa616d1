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
