"""The console's navigation. A section appears only when its app is installed and its page exists."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label), in DESIGN's order; sections whose url does not exist yet are left out.
SECTIONS = [
    ("overview", _("Overview")),
    ("coverage", _("Coverage")),
    ("bandwidth:index", _("Bandwidth")),
    ("compliance:index", _("Compliance")),
    ("egress:index", _("Egress")),
    ("threat:alerts", _("Alerts")),
    ("changes:index", _("Changes")),
    ("inventory:devices", _("Inventory")),
]


def _available():
    available = []
    for name, label in SECTIONS:
        try:
            available.append((name, label, reverse(name)))
        except NoReverseMatch:
            continue
    return available


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    current = getattr(getattr(request, "resolver_match", None), "view_name", "") or ""
    namespace = current.split(":")[0]
    return {"nav_sections": [{"label": label, "url": url,
                              "active": name == current or (":" in name and name.split(":")[0] == namespace)}
                             for name, label, url in _available()]}
