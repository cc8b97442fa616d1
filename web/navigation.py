"""The console's navigation: the sections the apps registered (web.registry), in order, for the user's role.

A section appears only when its page exists (its URL resolves) and the user's role may see it.
"""

from django.urls import NoReverseMatch, reverse

from web import registry
from web.access import user_role


def _available(role):
    available = []
    for section in registry.sections():
        if not section.visible_to(role):
            continue
        try:
            available.append((section.url_name, section.label, reverse(section.url_name)))
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
                             for name, label, url in _available(user_role(request.user))]}
