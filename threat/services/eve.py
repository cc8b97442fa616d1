"""Suricata EVE JSON (`event_type: alert`) into the same alert queue, for sites that already run Suricata.

Each line is one JSON event. Signatures map to DESIGN's kinds by the names ET Open gives the MS17-010 family;
anything else becomes kind `suricata` with Suricata's own severity. A bad line is reported by its number and a
code (`bad_lines`: line, code, error) and skipped; the rest of the file still counts. Lines are bounded in length,
nesting and time, and a file in distinct alerts, so a small hostile file costs little. Events aggregate per
(kind, src, dst, dport) like the engine's alerts, so re-importing a file adds nothing (see services.alerts).
"""

from __future__ import annotations

import datetime
import json
import re

from threat.choices import AlertKind, AlertSource
from threat.services import ThreatError

KILLSWITCH_HINT = re.compile(r"iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea|ifferfsodp9ifjaposdfjhgosurijfaewrwergwea|"
                             r"ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf", re.IGNORECASE)
# Order matters: the first pattern that matches the signature names the kind.
SIGNATURE_KINDS = [
    (re.compile(r"DOUBLE\s*PULSAR", re.IGNORECASE), AlertKind.DOUBLEPULSAR),
    (re.compile(r"ETERNAL\s*BLUE.*PROBE|PROBE.*ETERNAL\s*BLUE", re.IGNORECASE), AlertKind.MS17_010),
    (re.compile(r"ETERNAL\s*BLUE", re.IGNORECASE), AlertKind.ETERNALBLUE),
    (re.compile(r"ETERNAL\s*(ROMANCE|CHAMPION|SYNERGY)|MS17[-_ ]?010", re.IGNORECASE), AlertKind.MS17_010),
    (re.compile(r"WANNA\s*CR[YI].*(DNS|KILL|DOMAIN|LOOKUP)|(KILL\s*-?SWITCH).*WANNA", re.IGNORECASE),
     AlertKind.WANNACRY_KILLSWITCH),
    (re.compile(r"(PORT\s*445|TCP/445|SMB).*(SCAN|INFECTION|PROPAGATION)|SCAN.*(PORT\s*445|SMB)", re.IGNORECASE),
     AlertKind.SMB_SCAN),
    (re.compile(r"SMB\s*v?1\b|SMBv1", re.IGNORECASE), AlertKind.SMBV1),
]
KIND_SEVERITY = {"eternalblue": "critical", "doublepulsar": "critical", "wannacry-killswitch": "critical",
                 "ms17-010": "high", "smb-scan": "high", "smbv1": "low"}
SURICATA_SEVERITY = {1: "high", 2: "medium", 3: "low", 4: "low"}
MAX_BAD_LINES = 100
MAX_LINE = 1 << 20  # bytes; Suricata's alert lines are a few KiB, even with the payload printed
MAX_DEPTH = 32  # EVE events nest 3 or 4 deep; json.loads would recurse about 1000 deep before failing
MAX_ALERTS = 50_000  # distinct (kind, src, dst, dport) in one file: bounds memory and the ingest that follows
_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')  # a string (maybe unterminated), or a bracket
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BadLine(ValueError):
    """A line refused for a stated reason; `code` goes into `bad_lines`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def kind_for(event: dict) -> str:
    alert = event.get("alert") or {}
    signature = str(alert.get("signature") or "")
    dns = event.get("dns") or {}
    names = [str(dns.get("rrname") or "")] + [str(q.get("rrname") or "") for q in dns.get("queries") or []
                                               if isinstance(q, dict)]
    if KILLSWITCH_HINT.search(signature) or any(KILLSWITCH_HINT.search(n) for n in names if n):
        return AlertKind.WANNACRY_KILLSWITCH
    for pattern, kind in SIGNATURE_KINDS:
        if pattern.search(signature):
            return kind
    return AlertKind.SURICATA


def _row_of(event: dict) -> dict:
    from ipaddress import ip_address

    from threat.services.alerts import parse_time

    alert = event.get("alert")
    if not isinstance(alert, dict) or not alert.get("signature"):
        raise ValueError("an alert event needs alert.signature")
    src = str(ip_address(str(event.get("src_ip") or "")))
    dst_text = event.get("dest_ip")
    dst = str(ip_address(str(dst_text))) if dst_text else None
    dport = event.get("dest_port")
    if dport is not None and not (isinstance(dport, int) and 0 <= dport <= 65535):
        raise ValueError(f"dest_port {dport!r} is not a port number")
    try:
        when = parse_time(event.get("timestamp") or "")
    except ValueError as error:
        raise BadLine("THREAT_EVE_BAD_TIME", f"timestamp: {error}") from None
    kind = kind_for(event)
    severity = KIND_SEVERITY.get(kind) or SURICATA_SEVERITY.get(alert.get("severity"), "medium")
    if kind == AlertKind.SMB_SCAN:
        dst = None  # a scan is per source, like the engine's
    sid = alert.get("signature_id")
    evidence = f"[{sid}] {alert['signature']}" if sid else str(alert["signature"])
    return {"kind": kind, "severity": severity, "src": src, "dst": dst, "dport": dport, "time": when,
            "evidence": evidence[:300], "signature": str(alert["signature"])[:255]}


def _lines(stream):
    """(number, bytes) for each line of a binary stream, or (number, None) for a line over MAX_LINE bytes, which is
    read past in small pieces, never held whole."""
    number = 0
    while line := stream.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 16)
            yield number, None
        else:
            yield number, line


def _too_deep(text: str) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH (checked before json.loads recurses)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # every ordinary line: too few brackets to be that deep
        return False
    depth = 0
    for token in _DEPTH_TOKENS.findall(text):
        depth += _DEPTH_STEP.get(token, 0)
        if depth > MAX_DEPTH:
            return True
    return False


def _event_of(text: str) -> dict:
    if _too_deep(text):
        raise BadLine("THREAT_EVE_TOO_DEEP", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        event = json.loads(text)
    except RecursionError:  # a backstop: _too_deep should have refused it
        raise BadLine("THREAT_EVE_TOO_DEEP", "JSON nested too deep") from None
    if not isinstance(event, dict):
        raise ValueError("not a JSON object")
    return event


def read_eve(path) -> dict:
    """Parse an EVE file: {"alerts": engine-shaped rows, "events", "skipped", "bad_lines": [{line, code, error}]}."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise ThreatError("THREAT_EVE_NOT_FOUND", f"EVE file not found: {path}; check the path.") from None
    except OSError as error:
        raise ThreatError("THREAT_EVE_UNREADABLE", f"cannot read {path}: {error.strerror}.") from None
    groups: dict[tuple, dict] = {}
    bad, events, skipped = [], 0, 0

    def refuse(number: int, code: str, error) -> None:
        if len(bad) < MAX_BAD_LINES:
            bad.append({"line": number, "code": code, "error": str(error)[:200]})

    with stream:
        for number, line in _lines(stream):
            if line is None:
                refuse(number, "THREAT_EVE_LINE_TOO_LONG", f"line longer than {MAX_LINE} bytes; skipped unread")
                continue
            text = line.decode("utf-8", errors="replace")
            if not text.strip():
                continue
            try:
                event = _event_of(text)
                if event.get("event_type") != "alert":
                    skipped += 1
                    continue
                row = _row_of(event)
            except BadLine as error:
                refuse(number, error.code, error)
                continue
            except (ValueError, TypeError, KeyError, RecursionError) as error:
                refuse(number, "THREAT_EVE_BAD_LINE", error)
                continue
            key = (row["kind"], row["src"], row["dst"], row["dport"])
            group = groups.get(key)
            if group is None:
                if len(groups) >= MAX_ALERTS:
                    refuse(number, "THREAT_EVE_TOO_MANY_ALERTS", f"more than {MAX_ALERTS} distinct alerts (kind, "
                                                                 "source, destination, port) in one file; split it")
                    continue
                groups[key] = group = {**row, "first": row["time"], "last": row["time"], "count": 0,
                                       "evidence": []}
            events += 1
            group["count"] += 1
            group["first"], group["last"] = min(group["first"], row["time"]), max(group["last"], row["time"])
            if row["evidence"] not in group["evidence"] and len(group["evidence"]) < 10:
                group["evidence"].append(row["evidence"])
    alerts = [{"kind": g["kind"], "severity": g["severity"], "src": g["src"], "dst": g["dst"], "dport": g["dport"],
               "first_seen": _iso(g["first"]), "last_seen": _iso(g["last"]), "count": g["count"],
               "evidence": g["evidence"], "signature": g["signature"]} for g in groups.values()]
    return {"alerts": alerts, "events": events, "skipped": skipped, "bad_lines": bad}


def _iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def import_eve(path, locate: bool = True) -> dict:
    from threat.services.alerts import ingest_alerts

    parsed = read_eve(path)
    result = ingest_alerts(parsed["alerts"], AlertSource.SURICATA_EVE, locate=locate)
    return {"events": parsed["events"], "skipped": parsed["skipped"], "bad_lines": parsed["bad_lines"],
            "created": result["created"], "updated": result["updated"], "unchanged": result["unchanged"],
            "alerts": result["alerts"]}
