"""Capture files through the engine, and optionally into the alert queue."""

from __future__ import annotations

import os

from threat.choices import AlertSource
from threat.services import ThreatError


def scan_captures(paths, ingest: bool = False, locate: bool = True) -> dict:
    """DESIGN's `threat scan` result ({alerts, packets, bytes, seconds, warnings}); with `ingest`, `ingested` too."""
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
    return result
