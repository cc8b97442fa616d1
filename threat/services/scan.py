"""Capture files through the engine, and optionally into the alert queue."""

from __future__ import annotations

import datetime
import os

from threat.choices import AlertSource
from threat.models import Alert
from threat.services import ThreatError


def scan_captures(paths, ingest: bool = False, locate: bool = True) -> dict:
    """DESIGN's `threat scan` result ({alerts, packets, bytes, seconds, warnings}); with `ingest`, `ingested` too,
    and each alert row also names the stored alert it went into (`alert`) and when OneNet received that alert
    (`received_at`, ISO 8601 UTC like the capture times)."""
    from threat.engine import scan_files

    missing = [str(p) for p in paths if not os.path.isfile(p)]
    if missing:
        raise ThreatError("THREAT_CAPTURE_NOT_FOUND", f"capture file not found: {', '.join(missing)}; check the "
                                                      "path (pcap or pcapng, gzip'd or not).")
    unreadable = [str(p) for p in paths if not os.access(p, os.R_OK)]
    if unreadable:
        raise ThreatError("THREAT_CAPTURE_UNREADABLE", f"cannot read {', '.join(unreadable)}; check permissions.")
    result = scan_files(paths)
    if ingest:
        from threat.services.alerts import ingest_alerts

        stored = ingest_alerts(result["alerts"], AlertSource.PCAP, locate=locate)
        result["ingested"] = {k: stored[k] for k in ("created", "updated", "unchanged", "alerts")}
        _add_received(result["alerts"], stored["rows"])
    return result


def _add_received(rows: list[dict], alert_ids: list) -> None:
    received = dict(Alert.objects.filter(pk__in=[pk for pk in alert_ids if pk]).values_list("pk", "received_at"))
    for row, pk in zip(rows, alert_ids, strict=True):
        if pk in received:
            row["alert"] = pk
            row["received_at"] = received[pk].astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
