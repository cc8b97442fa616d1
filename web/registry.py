"""What the apps add to the console shell: navigation sections, device-page panels and metrics collectors.

Each app registers its own from its `AppConfig.ready()`, so adding an app never edits `web/`:

    from web import registry

    registry.register_section("bandwidth:index", _("Bandwidth"), order=30)
    registry.register_device_panel("collectors", "collectors/device_panel.html", "collectors.views.device_panel",
                                   order=10, replaces=["interfaces"])
    registry.register_metrics("collectors", "collectors.metrics.CollectorMetrics")

The shell reads them: web.navigation (the top bar), web.metrics (/metrics) and the device page (inventory's
device_detail renders `render_device_panels`). This module is the only part of web an app imports for that; the
rest of the shell (views, urls, navigation, metrics) is web's own.

Code is named by dotted path (as Django's settings name middleware), imported the first time it is used: the
apps' `ready()` stays light, and web never imports an app. Registering the same entry twice (a `ready()` run again)
changes nothing; registering another entry under a name already taken is an ImproperlyConfigured.

Navigation order, DESIGN's: Overview 10, Coverage 20, Bandwidth 30, Compliance 40, Egress 50, Alerts 60,
Changes 70, Inventory 80.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class NavigationSection:
    url_name: str  # reversed without arguments; a section whose URL does not resolve is left out of the bar
    label: str  # a lazy translation
    order: int
    roles: frozenset[str] | None = None  # the roles (web.access.user_role) that see it; None: every role

    def visible_to(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles


@dataclass(frozen=True)
class DevicePanel:
    """One part of the device page: `template` rendered with `context(request, device)` (a dotted path).

    The device page calls it only for a device the user may see. `replaces` names sections of the device page
    that this panel shows itself instead (the inventory's "interfaces" table, when a panel's table has its
    columns and more), so the page never shows them twice.
    """

    name: str
    template: str
    context: str
    order: int
    replaces: frozenset[str] = frozenset()

    def render(self, request, device) -> SafeString:
        context = _imported(self.context)(request, device)
        return render_to_string(self.template, {**context, "device": device}, request=request)


@dataclass(frozen=True)
class MetricsCollector:
    """A prometheus_client collector (an object with `collect()`), made by calling `factory` (a dotted path)."""

    name: str
    factory: str

    def create(self):
        return _imported(self.factory)()


_sections: dict[str, NavigationSection] = {}
_panels: dict[str, DevicePanel] = {}
_metrics: dict[str, MetricsCollector] = {}
_overview: dict[str, OverviewSource] = {}


@dataclass(frozen=True)
class OverviewSource:
    """Cards of the Overview: `figures` is the dotted path of a function (web.overview.Scope) → list of
    web.overview.Card; the Scope restricts querysets to the user's part of the tree and says which row of the
    Overview's county table a region path counts in."""

    name: str
    figures: str
    order: int

    def cards(self, scope) -> list:
        return _imported(self.figures)(scope)


@cache
def _imported(path: str) -> Callable:
    return import_string(path)


def _add(entries: dict, key: str, entry, what: str):
    existing = entries.setdefault(key, entry)
    if existing != entry:
        raise ImproperlyConfigured(f"The {what} {key!r} is registered twice, differently ({existing} and {entry}); "
                                   f"give each app's {what} its own name.")
    return existing


def register_section(url_name: str, label: str, order: int, roles: Iterable[str] | None = None) -> NavigationSection:
    """A section of the console's top bar, linking to `url_name`."""
    section = NavigationSection(url_name, label, order, None if roles is None else frozenset(roles))
    return _add(_sections, url_name, section, "navigation section")


def register_device_panel(name: str, template: str, context: str, order: int,
                          replaces: Iterable[str] = ()) -> DevicePanel:
    """A panel of the device page; `context` is the dotted path of a function (request, device) → dict."""
    return _add(_panels, name, DevicePanel(name, template, context, order, frozenset(replaces)), "device panel")


def register_metrics(name: str, factory: str) -> MetricsCollector:
    """A collector for /metrics; `factory` is the dotted path of a class or function that returns it."""
    return _add(_metrics, name, MetricsCollector(name, factory), "metrics collector")


def register_overview(name: str, figures: str, order: int) -> OverviewSource:
    """Cards an app adds to the Overview (web.overview); `figures` is a dotted path, see OverviewSource."""
    return _add(_overview, name, OverviewSource(name, figures, order), "overview source")


def overview_sources() -> list[OverviewSource]:
    return sorted(_overview.values(), key=lambda s: (s.order, s.name))


def sections() -> list[NavigationSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.url_name))


def device_panels() -> list[DevicePanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.name))


def metrics_collectors() -> list[MetricsCollector]:
    return sorted(_metrics.values(), key=lambda m: m.name)


@dataclass
class RenderedPanels:
    html: list[SafeString]
    replaced: frozenset[str]  # the device page's own sections a panel shows instead


def render_device_panels(request, device) -> RenderedPanels:
    """Every registered panel of the device page, in order, for a device the caller has checked is in scope."""
    panels = device_panels()
    return RenderedPanels([p.render(request, device) for p in panels],
                          frozenset().union(*(p.replaces for p in panels)))
