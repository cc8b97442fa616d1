"""Platform identification from sysObjectID / sysDescr (and optionally entPhysicalModelName).

Platform slugs: ``huawei_vrp``, ``hp_comware``, ``cisco_ios``, ``ruijie_os``; ``None`` when unknown.
Everything here is pure and tolerant: any input may be None, bytes, an OctetString, a hex dump...
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

MAX_TEXT = 4096

# enterprise prefixes (without leading dot)
ENT_HUAWEI = "1.3.6.1.4.1.2011"
ENT_H3C = "1.3.6.1.4.1.25506"
ENT_HP = "1.3.6.1.4.1.11"
ENT_CISCO = "1.3.6.1.4.1.9"
ENT_RUIJIE = "1.3.6.1.4.1.4881"

_HEX_RE = re.compile(r"^(?:0x)?((?:[0-9a-fA-F]{2})+)$")
_HEX_SPACED_RE = re.compile(r"^(?:[0-9a-fA-F]{2}[ :])+[0-9a-fA-F]{2}$")


def decode_text(value, limit: int = MAX_TEXT) -> str | None:
    """Turn whatever an agent (or a recording) gave into a clean ``str``.

    bytes/OctetString are decoded as UTF-8 with replacement (never raises); ``0x``-prefixed hex dumps
    (pysnmp's prettyPrint of non-printable strings) are decoded back to text; NULs are dropped; the
    result is capped to ``limit`` characters.
    """
    if value is None:
        return None
    if not isinstance(value, (str, bytes, bytearray)):
        try:
            value = bytes(value)  # pyasn1 OctetString
        except Exception:  # noqa: BLE001 - anything exotic: use its text form
            value = str(value)
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value[: limit * 4]).decode("utf-8", errors="replace")
    else:
        text = value
        if text.startswith("0x") and _HEX_RE.match(text):
            try:
                text = bytes.fromhex(text[2:]).decode("utf-8", errors="replace")
            except ValueError:
                pass
    text = text.replace("\x00", "")
    return text[:limit]


def normalize_oid(oid) -> str | None:
    if oid is None:
        return None
    s = str(oid).strip()
    if not s:
        return None
    s = s.lstrip(".")
    if not re.fullmatch(r"\d+(?:\.\d+)*", s):
        return None
    return s


def _oid_under(oid: str | None, prefix: str) -> bool:
    return bool(oid) and (oid == prefix or oid.startswith(prefix + "."))


@dataclass
class Identity:
    platform: str | None = None
    vendor: str | None = None
    model: str | None = None
    os_version: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _clean(s: str | None) -> str | None:
    if s is None:
        return None
    s = " ".join(s.split())
    return s or None


def detect_platform(sys_object_id, sys_descr) -> tuple[str | None, str | None]:
    """Return (platform slug or None, vendor or None)."""
    oid = normalize_oid(sys_object_id)
    descr = decode_text(sys_descr) or ""
    d = descr.lower()

    if _oid_under(oid, ENT_HUAWEI):
        return ("huawei_vrp" if ("vrp" in d or "versatile routing" in d or not d) else None), "Huawei"
    if _oid_under(oid, ENT_H3C):
        vendor = _comware_vendor(descr)
        return ("hp_comware" if ("comware" in d or not d) else None), vendor
    if _oid_under(oid, ENT_CISCO):
        if "nx-os" in d or "ios xr" in d or "ios-xr" in d or "adaptive security" in d:
            return None, "Cisco"
        if "ios" in d or "internetwork operating system" in d or not d:
            return "cisco_ios", "Cisco"
        return None, "Cisco"
    if _oid_under(oid, ENT_RUIJIE):
        return "ruijie_os", "Ruijie"
    # HP A-series (ex-3Com/H3C) Comware switches sometimes carry HP's enterprise number
    if _oid_under(oid, ENT_HP) and "comware" in d:
        return "hp_comware", _comware_vendor(descr)

    # sysObjectID absent or foreign: fall back on sysDescr alone
    if "versatile routing platform" in d or re.search(r"\bvrp\b", d):
        return "huawei_vrp", "Huawei"
    if "comware" in d:
        return "hp_comware", _comware_vendor(descr)
    if "cisco ios" in d or "internetwork operating system" in d or "ios-xe" in d:
        if "ios xr" in d:
            return None, "Cisco"
        return "cisco_ios", "Cisco"
    if "ruijie" in d or "rgos" in d:
        return "ruijie_os", "Ruijie"
    if "huawei" in d:
        return None, "Huawei"
    if "cisco" in d:
        return None, "Cisco"
    return None, None


def _comware_vendor(descr: str) -> str:
    d = descr.lower()
    if "hewlett" in d or re.search(r"\bhpe?\b", d):
        return "HPE" if re.search(r"\bhpe\b|hewlett packard enterprise", d) else "HP"
    return "H3C"


# ---------------------------------------------------------------- per-platform parsing


def _parse_vrp(descr: str) -> tuple[str | None, str | None]:
    version = model = None
    m = re.search(r"Version\s+([\d.]+)\s*\(([^)]*)\)", descr)
    if m:
        inner = m.group(2).split()
        rel = inner[-1] if inner else None
        version = f"{m.group(1)} ({rel})" if rel else m.group(1)
        if len(inner) >= 2:
            model = inner[0]
    else:
        m = re.search(r"Version\s+([\w.()-]+)", descr)
        if m:
            version = m.group(1)
    first = descr.strip().splitlines()[0].strip() if descr.strip() else ""
    m2 = re.match(r"^(?:Huawei\s+)?([A-Za-z0-9][\w/+-]*?)\s*(?:Huawei\s+Versatile|$)", first)
    if m2 and m2.group(1) and m2.group(1).lower() not in ("huawei", "versatile"):
        model = m2.group(1)
    return model, version


def _parse_comware(descr: str) -> tuple[str | None, str | None]:
    version = model = None
    m = re.search(r"Software Version\s+([\w.]+)", descr)
    if m:
        version = m.group(1)
    m = re.search(
        r"Release\s+\S+\s+(.+?)(?:\s+Switch\b|\s+Router\b|\s*Copyright|\r|\n|$)", descr, re.S
    )
    if m:
        cand = m.group(1).strip().splitlines()[0].strip() if m.group(1).strip() else ""
        cand = re.sub(r"^(?:HPE|HP|H3C|Hewlett[- ]Packard(?: Enterprise)?)\s+", "", cand)
        if cand and not cand.lower().startswith("copyright"):
            model = cand
    return _clean(model), version


def _parse_cisco(descr: str) -> tuple[str | None, str | None]:
    version = model = None
    m = re.search(r"Version\s+([^\s,]+)", descr)
    if m:
        version = m.group(1).rstrip(",")
    m = re.search(r"(?:IOS(?:-XE)? Software(?: \[[^\]]*\])?|IOS \(tm\))[,\s]+([\w-]+)\s+Software", descr)
    if m:
        model = m.group(1)
    return model, version


def _parse_ruijie(descr: str) -> tuple[str | None, str | None]:
    version = model = None
    m = re.search(r"RGOS\s+([\w.()-]+)", descr) or re.search(r"Version\s+([\w.()-]+)", descr)
    if m:
        version = m.group(1)
    m = re.search(r"\(([A-Z]{1,4}\d{2,5}[\w/+-]*)\)", descr)
    if m:
        model = m.group(1)
    return model, version


_PARSERS = {
    "huawei_vrp": _parse_vrp,
    "hp_comware": _parse_comware,
    "cisco_ios": _parse_cisco,
    "ruijie_os": _parse_ruijie,
}


def identify(sys_object_id, sys_descr, ent_models=None) -> Identity:
    """Platform, vendor, model and OS version of a device.

    ``ent_models`` is an optional iterable of entPhysicalModelName values (chassis first); Cisco's model
    is taken from there when present (the sysDescr only names the software image family).
    """
    descr = decode_text(sys_descr) or ""
    platform, vendor = detect_platform(sys_object_id, descr)
    model = version = None
    parser = _PARSERS.get(platform)
    if parser is not None:
        try:
            model, version = parser(descr)
        except Exception:  # noqa: BLE001 - regexes on hostile text must never break a poll
            model = version = None
    ent = [_clean(decode_text(x, 128)) for x in (ent_models or ())]
    ent = [x for x in ent if x]
    if ent and (platform == "cisco_ios" or model is None):
        model = ent[0]
    return Identity(platform=platform, vendor=vendor, model=_clean(model), os_version=_clean(version))
