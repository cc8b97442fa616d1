"""Platform identification from sysObjectID / sysDescr (and optionally entPhysicalModelName).

The platform slug comes from the platforms' own SNMP hints (platforms/<slug>/platform.py); ``None`` when unknown.
Everything here is pure and tolerant: any input may be None, bytes, an OctetString, a hex dump...
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from platforms import all_platforms, get

MAX_TEXT = 4096


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
    """(platform slug or None, vendor or None), by the platforms' own hints (platforms/<slug>/platform.py).

    A sysObjectID under a vendor's enterprise number names the vendor; the sysDescr then says whether the device
    runs that vendor's platform (an empty sysDescr is taken to). Without a known sysObjectID the sysDescr alone
    decides."""
    oid = normalize_oid(sys_object_id)
    descr = decode_text(sys_descr) or ""
    for platform in all_platforms():
        if platform.owns_object_id(oid, descr):
            runs_it = platform.object_id_suffices or not descr or platform.names_os(descr)
            return (platform.slug if runs_it else None), platform.vendor_for(descr, oid)
    for platform in all_platforms():
        if platform.names_os(descr):
            return platform.slug, platform.vendor_for(descr, oid)
    for platform in all_platforms():  # the vendor's name alone: a device of theirs OneNet has no platform for
        if re.search(rf"\b{platform.vendor}\b", descr, re.IGNORECASE):
            return None, platform.vendor
    return None, None


def identify(sys_object_id, sys_descr, ent_models=None, vendor_mib=None) -> Identity:
    """Platform, vendor, model and OS version of a device.

    ``ent_models`` is an optional iterable of entPhysicalModelName values (chassis first); Cisco's model
    is taken from there when present (the sysDescr only names the software image family). ``vendor_mib`` holds
    what the device answered for :func:`vendor_mib_oids` ({"model"|"os_version": value}): it fills what the
    sysDescr does not say.
    """
    descr = decode_text(sys_descr) or ""
    platform, vendor = detect_platform(sys_object_id, descr)
    model = version = None
    if platform is not None:
        try:
            model, version = get(platform).parse_sys_descr(descr)
        except Exception:  # noqa: BLE001 - regexes on hostile text must never break a poll
            model = version = None
    ent = [_clean(decode_text(x, 128)) for x in (ent_models or ())]
    ent = [x for x in ent if x]
    if ent and (model is None or get(platform).model_from_entity_mib):
        model = ent[0]
    mib = {field: _clean(decode_text(value, 128)) for field, value in (vendor_mib or {}).items()}
    model = model or mib.get("model")
    version = version or mib.get("os_version")
    return Identity(platform=platform, vendor=vendor, model=_clean(model), os_version=_clean(version))


def vendor_mib_oids(sys_object_id, sys_descr, ent_models=None) -> dict[str, str]:
    """The vendor-MIB scalars to read for what the sysDescr (and ENTITY-MIB) leave unsaid ({field: OID});
    empty, so nothing more is asked, when they name both the model and the version."""
    ident = identify(sys_object_id, sys_descr, ent_models)
    if ident.platform is None:
        return {}
    wanted = get(ident.platform).identity_oids(normalize_oid(sys_object_id))
    return {field: oid for field, oid in wanted.items() if getattr(ident, field) is None}
