"""Alert ingest and triage.

Ingest takes the engine's alert dicts (DESIGN's `threat scan` shape) from a capture file, the live sensor or
Suricata EVE. Two rules keep the queue honest:
- idempotent: each engine alert is fingerprinted by (kind, src, dst, dport, first_seen) with the count it
  carried; seeing the same fingerprint again adds only the growth of its count (zero for a re-scanned file,
  the new events for a live sensor flushing every second);
- deduplicated: the same kind from the same source address within ONENET_ALERT_DEDUP_WINDOW_S of an open
  alert updates that alert (count, last seen, evidence) instead of adding another.
A new alert is received (`received_at`) at the moment of its ingest, one moment per ingest, so the alerts one
capture brings in are listed together, the most severe first; seeing an alert again does not move that time.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from threat.choices import OPEN_STATUSES, SEVERITY_RANK, TRANSITIONS, AlertStatus, EventKind
from threat.engine.pcapio import LATEST_TIME
from threat.models import Alert, AlertEvent, AlertFingerprint, AlertNote
from threat.services import ThreatError
from threat.services.enrichment import locate_alert, locate_prefix
from threat.services.incidents import attach
from threat.services.incidents import change_status as incident_status

log = logging.getLogger(__name__)

MAX_EVIDENCE = 20


def dedup_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.ONENET_ALERT_DEDUP_WINDOW_S)


EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime.fromtimestamp(LATEST_TIME, datetime.UTC)  # the capture engine's bound too


def parse_time(value) -> datetime.datetime:
    """ISO-8601 (with 'Z' or an offset), or epoch seconds; always an aware UTC datetime from 1970 to 2107.

    Anything else is a ValueError, never an OverflowError: a time outside that range (year 9999, 1e20, NaN, a
    negative epoch) is corruption, and it would overflow the dedup window's arithmetic at ingest anyway.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < LATEST_TIME:  # NaN and ±inf fail this too
            raise ValueError("epoch time is not between 1970 and 2107")
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # Suricata's +0000
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        parsed = parsed.astimezone(datetime.UTC)
    except OverflowError:  # 9999-12-31T23:59-01:00 is in year 10000 in UTC
        raise ValueError(f"time {text[:40]!r} is not between 1970 and 2107") from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"time {text[:40]!r} is not between 1970 and 2107")
    return parsed


def fingerprint(row: dict) -> str:
    key = "|".join(str(row.get(k) or "") for k in ("kind", "src", "dst", "dport", "first_seen"))
    return hashlib.sha256(key.encode()).hexdigest()


def merge_evidence(old: list, new: list) -> list:
    merged = list(old)
    for item in new:
        if len(merged) >= MAX_EVIDENCE:
            break
        if item not in merged:
            merged.append(str(item)[:500])
    return merged


def _event(alert: Alert, kind: str, text: str = "", actor=None, from_status: str = "", to_status: str = ""):
    return AlertEvent.objects.create(alert=alert, kind=kind, text=text[:500], actor=actor,
                                     from_status=from_status, to_status=to_status)


def _seen_again(alert: Alert, added: int, source: str) -> None:
    """One "seen again" line per burst: a sensor flushing every second must not flood the timeline."""
    last = alert.events.order_by("-time", "-pk").first()
    if last is not None and last.kind == EventKind.UPDATED and last.to_status == source:
        last.text = f"+{added + int(last.text.lstrip('+') or 0)}"
        last.time = timezone.now()
        last.save(update_fields=["text", "time"])
    else:
        AlertEvent.objects.create(alert=alert, kind=EventKind.UPDATED, text=f"+{added}", to_status=source)


def _apply(alert: Alert, row: dict, added: int, first: datetime.datetime, last: datetime.datetime) -> None:
    alert.count += added
    alert.first_seen = min(alert.first_seen, first)
    alert.last_seen = max(alert.last_seen, last)
    if SEVERITY_RANK.get(row["severity"], 1) > alert.severity_rank:
        alert.severity, alert.severity_rank = row["severity"], SEVERITY_RANK[row["severity"]]
    evidence = list(row.get("evidence") or [])
    if row.get("dst") and alert.dst and row["dst"] != alert.dst:
        evidence.insert(0, f"also towards {row['dst']}:{row.get('dport') or ''}")
    alert.evidence = merge_evidence(alert.evidence, evidence)
    alert.save()


def _create(row: dict, source: str, first, last, count: int, received: datetime.datetime) -> Alert:
    region, agency, site = locate_prefix(row["src"])
    alert = Alert.objects.create(
        kind=row["kind"], severity=row["severity"], severity_rank=SEVERITY_RANK.get(row["severity"], 1),
        source=source, signature=(row.get("signature") or "")[:255], src=row["src"], dst=row.get("dst") or None,
        dport=row.get("dport"), first_seen=first, last_seen=last, received_at=received, count=count,
        evidence=merge_evidence([], row.get("evidence") or []), region=region, agency=agency, site=site)
    _event(alert, EventKind.CREATED, f"{source}: {count}")
    return alert


def ingest_alerts(rows: list[dict], source: str, locate: bool = True, ssh: bool = True) -> dict:
    """Store engine alert dicts; returns {created, updated, unchanged, rejected, alerts: [ids], new: [ids],
    rows: [the id of the alert each row went into, or None]}.

    A row whose times `parse_time` refuses is logged and counted in `rejected`; the other rows are stored.

    `locate` finds the host's switch and port from the collectors' tables; with `ssh` it reads the lab or
    real devices' ARP/MAC tables when those tables do not have the host yet (slow: seconds per site).
    """
    created, updated, unchanged, rejected = [], [], 0, 0
    window = dedup_window()
    received = timezone.now()
    by_row: list[int | None] = []
    for row in rows:
        by_row.append(None)
        if not row.get("src"):
            unchanged += 1
            continue
        try:
            first, last = parse_time(row["first_seen"]), parse_time(row["last_seen"])
        except ValueError as error:  # one impossible time fails its own alert, not the whole ingest
            log.warning("alert %s from %s not stored: %s", row.get("kind"), row.get("src"), error)
            rejected += 1
            continue
        count = max(1, int(row.get("count") or 1))
        digest = fingerprint(row)
        with transaction.atomic():
            seen = AlertFingerprint.objects.select_for_update().select_related("alert").filter(digest=digest).first()
            if seen is not None:
                added = count - seen.count
                if added <= 0:
                    by_row[-1] = seen.alert_id
                    unchanged += 1
                    continue
                seen.count = count
                alert = seen.alert
                if alert.is_open:
                    _apply(alert, row, added, first, last)
                    _seen_again(alert, added, source)
                    attach(alert)
                    seen.save(update_fields=["count"])
                    updated.append(alert.pk)
                    by_row[-1] = alert.pk
                    continue
                count = added  # closed since: the new events go to an open alert, below
            alert = (Alert.objects.select_for_update()
                     .filter(kind=row["kind"], src=row["src"], status__in=OPEN_STATUSES,
                             last_seen__gte=first - window, first_seen__lte=last + window)
                     .order_by("-last_seen").first())
            if alert is not None:
                _apply(alert, row, count, first, last)
                _seen_again(alert, count, source)
                updated.append(alert.pk)
            else:
                alert = _create(row, source, first, last, count, received)
                created.append(alert.pk)
            attach(alert)  # the host's open incident (opened now for a new host)
            by_row[-1] = alert.pk
            if seen is not None:
                seen.alert = alert
                seen.save(update_fields=["count", "alert"])
            else:
                AlertFingerprint.objects.create(alert=alert, digest=digest, count=count)
    if locate:
        sites_read: set[int] = set()  # one SSH round per site and ingest, however many alerts it holds
        for pk in dict.fromkeys(created):
            try:
                locate_alert(pk, ssh=ssh, sites_read=sites_read)
            except Exception:  # noqa: BLE001 - locating is best effort: the alert is stored already
                log.exception("locating alert %s failed", pk)
    touched = list(dict.fromkeys(created + updated))
    return {"created": len(set(created)), "updated": len(set(updated) - set(created)), "unchanged": unchanged,
            "rejected": rejected, "alerts": touched, "new": list(dict.fromkeys(created)), "rows": by_row}


# -- triage ----------------------------------------------------------------------------------------------
def change_status(alert: Alert, to_status: str, user=None, text: str = "") -> Alert:
    """Move one alert; an alert contained contains its incident, and an alert reopened goes back into its host's
    open incident (a resolved incident stays resolved)."""
    if to_status not in AlertStatus.values:
        raise ThreatError("THREAT_STATUS_UNKNOWN", f"{to_status!r} is not an alert status; use one of "
                                                   f"{', '.join(AlertStatus.values)}.")
    allowed = TRANSITIONS[AlertStatus(alert.status)]
    if to_status not in allowed:
        raise ThreatError("THREAT_TRANSITION_REFUSED",
                          f"an alert that is {alert.status} cannot become {to_status}; allowed: "
                          f"{', '.join(sorted(allowed)) or 'none'}.")
    with transaction.atomic():
        from_status, alert.status = alert.status, to_status
        alert.save(update_fields=["status", "updated_at"])
        _event(alert, EventKind.STATUS, text, user, from_status, to_status)
        _follow(alert, to_status, user)
    return alert


def _follow(alert: Alert, to_status: str, user) -> None:
    from threat.choices import IncidentStatus

    if to_status in OPEN_STATUSES and (alert.incident is None or not alert.incident.is_open):
        attach(alert)
    incident = alert.incident
    if (to_status == AlertStatus.CONTAINED and incident is not None
            and incident.status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)):
        incident_status(incident, IncidentStatus.CONTAINED, user, f"#{alert.pk}",
                                cascade=False)


def assign(alert: Alert, assignee, user=None) -> Alert:
    with transaction.atomic():
        alert.assignee = assignee
        alert.save(update_fields=["assignee", "updated_at"])
        _event(alert, EventKind.ASSIGNED, assignee.get_username() if assignee else "", user)
    return alert


def add_note(alert: Alert, user, text: str) -> AlertNote:
    text = (text or "").strip()
    if not text:
        raise ThreatError("THREAT_NOTE_EMPTY", "a note needs some text.")
    if len(text) > 4000:
        raise ThreatError("THREAT_NOTE_TOO_LONG", "a note is at most 4000 characters; shorten it.")
    with transaction.atomic():
        note = AlertNote.objects.create(alert=alert, author=user, text=text)
        _event(alert, EventKind.NOTE, text[:200], user)
    return note
