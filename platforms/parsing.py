"""Reading what devices print: ntc-templates (compiled once per thread), MAC forms, ARP rows a template missed,
uptimes. Shared by every platform's driver."""

from __future__ import annotations

import functools
import io
import re
import threading
from pathlib import Path

import textfsm


def normalise_mac(mac: str) -> str:
    """Any vendor's MAC notation (xxxx-xxxx-xxxx, xxxx.xxxx.xxxx, xx:xx:...) as aa:bb:cc:dd:ee:ff."""
    digits = re.sub(r"[^0-9a-fA-F]", "", mac or "").lower()
    if len(digits) != 12:
        return (mac or "").lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


ARP_LINE = re.compile(
    r"^\s*(?:Internet\s+)?(?P<ip>\d{1,3}(?:\.\d{1,3}){3})\s+(?:\S+\s+)?"
    r"(?P<mac>[0-9a-fA-F]{4}[.-][0-9a-fA-F]{4}[.-][0-9a-fA-F]{4}|(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2})\s"
    r".*?(?<!\S)(?P<interface>[A-Za-z]{2}[A-Za-z\-]*\d[\w/.:\-]*)")


def arp_from_text(output: str) -> list[dict]:
    """Rows of an ARP table a template did not read (any vendor's: IP, then MAC, then the interface)."""
    rows = []
    for line in output.splitlines():
        match = ARP_LINE.match(line)
        if match and all(0 <= int(part) <= 255 for part in match["ip"].split(".")):
            rows.append({"ip": match["ip"], "mac": normalise_mac(match["mac"]), "interface": match["interface"]})
    return rows


@functools.cache
def _template(platform: str, command: str) -> str | None:
    """The text of ntc-templates' template for a platform's command (looked up once: ntc-templates'
    `parse_output` looks it up and compiles it on every call, ~11 ms each, all of it holding the GIL)."""
    from ntc_templates.parse import _get_template_dir
    from textfsm import clitable

    directory = _get_template_dir()
    index = clitable.CliTable("index", directory).index
    row = index.GetRowMatch({"Command": command, "Platform": platform})
    if not row:
        return None
    names = index.index[row]["Template"].split(":")
    return Path(directory, names[0]).read_text()


_parsers = threading.local()


def _parser(platform: str, command: str) -> textfsm.TextFSM | None:
    """This thread's compiled TextFSM for the template (a TextFSM holds parse state: one per thread)."""
    cache = _parsers.__dict__.setdefault("fsm", {})
    if (platform, command) not in cache:
        template = _template(platform, command)
        cache[platform, command] = None if template is None else textfsm.TextFSM(io.StringIO(template))
    return cache[platform, command]


def _first(row: dict, *keys) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, "", []):
            return value
    return ""


def uptime_seconds(text: str) -> float:
    """"12 weeks, 3 days, 4 hours, 5 minutes" (any of the units) as seconds; -1.0 when the text has none."""
    units = {"year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}
    found = re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)s?", text or "")
    return float(sum(int(n) * units[unit] for n, unit in found)) if found else -1.0
