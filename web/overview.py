"""The Overview's figures: is the network OK today? One service for the page, its drill-downs and the tests.

Cards come from the apps (web.registry.register_overview: the collectors' devices, links, backups, egress and
availability, the compliance scores) and from the inventory (coverage). Each card counts items, per row of the
county table: one row per county in the user's scope and, for the whole network, the city's own agencies and sites
(市直单位) beside them, so the rows add up to the card. A card's drill-down lists exactly the items it counts.

Every card is a bounded number of queries whatever the size of the inventory (a GROUP BY or one scan per card).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.choices import DeviceStatus, Platform, RegionLevel
from inventory.models import Device, Region
from inventory.services.coverage import coverage_report
from web import registry
from web.access import WHOLE_NETWORK, scope_path, scoped

CITY = "city"  # the county table's row of the city's own agencies and sites (市直单位)
OPEN_ALERTS = ("new", "acknowledged", "contained")  # threat.choices.AlertStatus: not yet resolved or dismissed
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass
class Scope:
    """The user's part of the network, as the cards need it."""

    user: Any
    path: str
    now: Any = field(default_factory=timezone.now)

    def __call__(self, queryset):
        return scoped(queryset, self.user)

    @property
    def county(self) -> str | None:
        """The county row every item counts in for a user scoped to a county or below; None for the whole city."""
        parts = [p for p in self.path.split("/") if p]
        return parts[1] if len(parts) > 1 else None

    def bucket(self, path: str | None) -> str:
        """The county table's row of a region path: its county's slug, or CITY for the city level's own."""
        if self.county:
            return self.county
        parts = [p for p in (path or "").split("/") if p]
        return parts[1] if len(parts) > 1 else CITY


@dataclass
class Card:
    key: str
    title: Any
    figure: Any  # what the card shows big: a count, a share (0..1) or text
    by_county: dict[str, Any] = field(default_factory=dict)  # row → the card's figure for that row
    additive: bool = True  # the rows add up to `figure`
    unit: str = ""  # "%" for a share
    lines: list = field(default_factory=list)  # what the card says under the figure
    columns: list = field(default_factory=list)  # the drill-down's header
    items: Callable[[], list[dict]] | None = None  # the drill-down's rows: {"county", "cells", "url"}
    link: str | None = None  # a page elsewhere that lists exactly what the card counts
    order: int = 50
    counts: dict[str, Any] = field(default_factory=dict)  # a share's additive parts per row (e.g. passed, failed)

    @property
    def listed(self) -> bool:
        """Whether the card has its own drill-down list (templates must not call `items`: it may query)."""
        return self.items is not None


def counted(rows: list[dict]) -> dict[str, int]:
    """Items per county row."""
    out: dict[str, int] = {}
    for row in rows:
        out[row["county"]] = out.get(row["county"], 0) + 1
    return out


def _coverage_card(scope: Scope) -> tuple[Card, dict]:
    report = coverage_report(scope.path)
    counties = {r["slug"]: r for r in report["counties"]}
    by_county = {}
    for region in counties.values():
        by_county[scope.bucket(region["path"])] = region["sites_connected"]
    if scope.county is None and report["totals"]:
        by_county[CITY] = report["totals"]["sites_connected"] - sum(r["sites_connected"] for r in counties.values())
    elif report["totals"]:
        by_county = {scope.county: report["totals"]["sites_connected"]}
    totals = report["totals"] or {}
    return Card("coverage", _("Site coverage"), totals.get("sites_connected", 0), by_county, order=90, lines=[
        _("%(c)s of %(e)s expected sites connected (%(p)s%%)") % {
            "c": totals.get("sites_connected", 0), "e": totals.get("sites_expected", 0),
            "p": totals.get("site_coverage_pct") if totals.get("site_coverage_pct") is not None else "–"},
        _("%(a)s answering SNMP now") % {"a": totals.get("sites_answering", 0)}], link=reverse("coverage")), report


def _alerts_card(scope: Scope) -> Card | None:
    """Open alerts by severity (threat.models.Alert, read by name: web imports no app)."""
    if not apps.is_installed("threat"):
        return None
    alert = apps.get_model("threat", "Alert")
    alerts = scope(alert.objects.filter(status__in=OPEN_ALERTS)).order_by()
    by_county, by_severity = {}, dict.fromkeys(SEVERITIES, 0)
    for path, severity, n in alerts.values_list("region__path", "severity").annotate(n=Count("pk")):
        row = scope.bucket(path)
        by_county[row] = by_county.get(row, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
    labels = dict(alert._meta.get_field("severity").choices)
    kinds, statuses = (dict(alert._meta.get_field(name).choices) for name in ("kind", "status"))

    def items():
        rows = alerts.order_by("-severity_rank", "-last_seen").values(
            "pk", "severity", "kind", "src", "dst", "region__name", "region__path", "status", "last_seen")
        return [{"county": scope.bucket(r["region__path"]), "url": reverse("threat:alert", args=[r["pk"]]),
                 "cells": [labels.get(r["severity"], r["severity"]), kinds.get(r["kind"], r["kind"]), r["src"],
                           r["dst"] or "", r["region__name"] or "", statuses.get(r["status"], r["status"]),
                           r["last_seen"]]} for r in rows]

    return Card("alerts", _("Open alerts"), sum(by_county.values()), by_county, order=20,
                lines=[" · ".join(f"{labels.get(s, s)}: {n}" for s, n in by_severity.items())],
                columns=[_("Severity"), _("Kind"), _("Source address"), _("Destination address"), _("Region"),
                         _("Status"), _("Last seen")], items=items)


def _devices_card(scope: Scope) -> tuple[Card, dict]:
    """Devices per status and platform (a county's count is every device of its subtree), and per county row."""
    # order_by() first: the default ordering would join the GROUP BY (scoped() makes the query DISTINCT).
    devices = scope(Device.objects.all()).order_by()
    statuses, platforms = dict(DeviceStatus.choices), dict(Platform.choices)
    by_status: dict[str, int] = {}
    by_county: dict[str, int] = {}
    by_platform: dict[str, int] = {}
    for path, status, platform, n in devices.values_list("site__region__path", "status", "platform").annotate(
            n=Count("pk")):
        by_status[status] = by_status.get(status, 0) + n
        by_platform[platform] = by_platform.get(platform, 0) + n
        row = scope.bucket(path)
        by_county[row] = by_county.get(row, 0) + n
    status_rows = [{"status": s, "label": statuses.get(s, s), "n": n} for s, n in sorted(by_status.items())]
    platform_rows = [{"platform": p, "label": platforms.get(p, p), "n": n}
                     for p, n in sorted(by_platform.items(), key=lambda item: (-item[1], item[0]))]
    total = sum(by_status.values())
    card = Card("devices", _("Devices"), total, by_county, order=5, link=reverse("inventory:devices"),
                lines=[" · ".join(f"{r['label']}: {r['n']}" for r in status_rows)])
    return card, {"device_total": total, "by_status": status_rows, "by_platform": platform_rows}


def overview(user) -> dict:
    """Every card and the county table for `user` (who must have a scope)."""
    scope = Scope(user, scope_path(user) or WHOLE_NETWORK)
    cards = [card for source in registry.overview_sources() for card in source.cards(scope)]
    devices, device_figures = _devices_card(scope)
    coverage, report = _coverage_card(scope)
    cards += [c for c in (devices, _alerts_card(scope), coverage) if c is not None]
    cards.sort(key=lambda c: (c.order, c.key))
    counties = list(scope(Region.objects.filter(level=RegionLevel.COUNTY)).order_by("path").values("slug", "name"))
    if scope.county:
        counties = [c for c in counties if c["slug"] == scope.county] or [
            {"slug": scope.county, "name": Region.objects.filter(slug=scope.county).values_list(
                "name", flat=True).first() or scope.county}]
    rows = [{"key": c["slug"], "name": c["name"], "region": c["slug"]} for c in counties]
    if scope.county is None:
        rows.append({"key": CITY, "name": _("City-level agencies and sites"), "region": None})
    table = [c for c in cards if c.additive or c.by_county]
    for row in rows:
        row["figures"] = {card.key: card.by_county.get(row["key"], 0 if card.additive else None) for card in table}
        row["cells"] = [{"card": card, "value": row["figures"][card.key]} for card in table]
    root = Region.objects.filter(path=scope.path).first() if scope.path != WHOLE_NETWORK else (
        Region.objects.filter(level=RegionLevel.CITY).first())
    return {"cards": cards, "table_cards": table, "rows": rows, "root": root, "scope": scope, "now": scope.now,
            "report": report, **device_figures}


def card(user, key: str) -> Card | None:
    return next((c for c in overview(user)["cards"] if c.key == key), None)
