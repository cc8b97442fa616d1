"""The collectors' cards of the Overview (web.overview): devices not answering now, busy links, links needing
expansion, stale backups, the internet egress and availability. Registered from CollectorsConfig.ready().

Each counting card builds its drill-down rows from the same query as its count, so the two never disagree.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collectors.models import BackupState
from collectors.services import bandwidth
from collectors.services.availability import availability_by_county
from collectors.services.link_facts import link_facts
from inventory.choices import DeviceStatus, LinkTier
from inventory.models import Device, Link
from inventory.services.coverage import ANSWERED, answering_since
from web.overview import Card, counted
from web.tables import Percent

BUSY = 0.8  # "a link at 80 % now"


def _device_url(pk: int) -> str:
    return reverse("inventory:device", args=[pk])


def _link_url(pk: int) -> str:
    return reverse("bandwidth:link", args=[pk])


def silent_devices(scope) -> list[dict]:
    """Active devices expected to answer SNMP that did not answer lately, with their last answer (or never)."""
    devices = scope(Device.objects.filter(status=DeviceStatus.ACTIVE, expect_polling=True)).exclude(
        **{f"{ANSWERED}__gte": answering_since(scope.now)}).order_by()
    rows = devices.values("pk", "name", "site__name", "site__region__name", "site__region__path", ANSWERED,
                          "state__snmp_state", "state__last_poll_error")
    return [{"county": scope.bucket(r["site__region__path"]), "url": _device_url(r["pk"]), "since": r[ANSWERED],
             "cells": [r["name"], r["site__name"], r["site__region__name"], r[ANSWERED] or _("never"),
                       r["state__last_poll_error"] or ""]}
            for r in sorted(rows, key=lambda r: (r[ANSWERED] is not None, r[ANSWERED] or 0, r["name"]))]


def busy_links(scope, rows=None) -> list[dict]:
    rows = bandwidth.links_now(scope(Link.objects.all())) if rows is None else rows
    busy = sorted((r for r in rows if r.utilisation is not None and r.utilisation >= BUSY),
                  key=lambda r: -r.utilisation)
    return [{"county": scope.bucket(r.link.downstream_interface.device.site.region.path), "url": _link_url(r.link.pk),
             "cells": [str(r.link.a_interface.device), r.link.a_interface.name, str(r.link.b_interface.device),
                       r.link.b_interface.name, r.link.get_tier_display(), Percent(round(r.utilisation, 4)),
                       r.time]} for r in busy]


def expansion_links(scope, links=None) -> list[dict]:
    """The expansion page's default question: peak ≥ 80 % on 3 of the last 7 days."""
    return [{"county": scope.bucket(r["link"].downstream_interface.device.site.region.path),
             "url": _link_url(r["link"].pk),
             "cells": [str(r["link"].a_interface.device), r["link"].a_interface.name, str(r["link"].b_interface.device),
                       r["link"].b_interface.name, r["link"].get_tier_display(), r["days_over"],
                       Percent(round(r["peak"], 4))]}
            for r in bandwidth.expansion_candidates(scope(Link.objects.all()) if links is None else links)]


def stale_backups(scope) -> list[dict]:
    """Active devices expected to be backed up whose last backup failed, or whose last good one is older than two
    backup intervals (or never happened)."""
    cutoff = scope.now - timedelta(seconds=2 * settings.ONENET_BACKUP_INTERVAL_S)
    devices = scope(Device.objects.filter(status=DeviceStatus.ACTIVE, expect_backup=True)).filter(
        Q(state__isnull=True) | Q(state__backup_state=BackupState.FAILED) | Q(state__last_backup_ok_at__isnull=True)
        | Q(state__last_backup_ok_at__lt=cutoff)).order_by()
    states = dict(BackupState.choices)
    rows = devices.values("pk", "name", "site__name", "site__region__name", "site__region__path",
                          "state__backup_state", "state__last_backup_ok_at", "state__last_backup_error")
    return [{"county": scope.bucket(r["site__region__path"]), "url": _device_url(r["pk"]),
             "cells": [r["name"], r["site__name"], r["site__region__name"],
                       states.get(r["state__backup_state"] or BackupState.UNKNOWN),
                       r["state__last_backup_ok_at"] or _("never"), r["state__last_backup_error"] or ""]}
            for r in sorted(rows, key=lambda r: r["name"])]


SILENT_NAMED = 5  # the longest silent devices the card names itself; its list names them all


def _since(row) -> str:
    if row["since"] is None:
        return _("%(device)s: never answered") % {"device": row["cells"][0]}
    return _("%(device)s: silent since %(since)s") % {
        "device": row["cells"][0], "since": f"{timezone.localtime(row['since']):%Y-%m-%d %H:%M}"}


SILENT_COLUMNS = [_("Device"), _("Site"), _("Region"), _("Last SNMP answer"), _("Last poll error")]
LINK_COLUMNS = [_("A device"), _("A interface"), _("B device"), _("B interface"), _("Tier")]


def _shown_share(by_county: dict, window: str) -> str:
    polls = sum(b[window]["polls"] for b in by_county.values())
    answered = sum(b[window]["answered"] for b in by_county.values())
    return f"{100 * answered / polls:.2f}%" if polls else "–"


def cards(scope) -> list[Card]:
    silent = silent_devices(scope)
    links = link_facts(scope(Link.objects.all()))  # loaded once, for the busy and the expansion cards
    rows = bandwidth.links_now(links)
    busy = busy_links(scope, rows)
    expansion = expansion_links(scope, links)
    backups = stale_backups(scope)
    out = [
        Card("silent", _("Devices not answering now"), len(silent), counted(silent), order=10,
             lines=[_("installed devices with no SNMP answer in the last two poll intervals"),
                    *(_since(row) for row in silent[:SILENT_NAMED])],
             columns=SILENT_COLUMNS, items=lambda: silent),
        Card("busy", _("Links at ≥ 80 % now"), len(busy), counted(busy), order=30,
             columns=[*LINK_COLUMNS, _("Utilisation"), _("Measured at")], items=lambda: busy),
        Card("expansion", _("Links needing expansion"), len(expansion), counted(expansion), order=40,
             lines=[_("daily peak ≥ 80 %, on 3 of the last 7 days")],
             columns=[*LINK_COLUMNS, _("Days over the threshold"), _("Peak")], items=lambda: expansion),
        Card("backups", _("Backups failed or out of date"), len(backups), counted(backups), order=50,
             lines=[_("last backup failed, or none succeeded in two backup intervals")],
             columns=[_("Device"), _("Site"), _("Region"), _("Backup state"), _("Last successful backup"),
                      _("Last backup error")], items=lambda: backups),
    ]
    egress = [r for r in rows if r.link.tier == LinkTier.INTERNET]
    if egress:
        lines = []
        for r in egress:
            p95 = bandwidth.p95_this_month(r.link)
            lines.append(_("%(link)s: %(now)s now, 95th percentile this month %(p95)s") % {
                "link": f"{r.link.a_interface.device} {r.link.a_interface.name}",
                "now": "–" if r.utilisation is None else f"{100 * r.utilisation:.1f}%",
                "p95": "–" if p95["utilisation"] is None else f"{100 * p95['utilisation']:.1f}%"})
        busiest = max((r.utilisation for r in egress if r.utilisation is not None), default=None)
        out.append(Card("egress", _("Internet egress now"), None if busiest is None else Percent(busiest), {},
                        additive=False, unit="%", lines=lines, order=60,
                        link=f"{reverse('bandwidth:index')}?tier={LinkTier.INTERNET}"))
    devices = scope(Device.objects.filter(status=DeviceStatus.ACTIVE, expect_polling=True))
    by_county = availability_by_county(devices, scope.now)
    polls = sum(b["24h"]["polls"] for b in by_county.values())
    answered = sum(b["24h"]["answered"] for b in by_county.values())
    out.append(Card("availability", _("Availability, last 24 hours"), Percent(answered / polls) if polls else None,
                    {k: Percent(b["24h"]["share"]) if b["24h"]["share"] is not None else None
                     for k, b in by_county.items()}, additive=False, unit="%", order=70,
                    lines=[_("%(a)s of %(p)s polls answered") % {"a": answered, "p": polls},
                           _("7 days: %(week)s · 30 days: %(month)s") % {
                               "week": _shown_share(by_county, "7d"), "month": _shown_share(by_county, "30d")}],
                    link=reverse("availability:report")))
    return out
