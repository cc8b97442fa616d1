"""Defensive decoding of what devices answer: wrong types, garbage and hostile strings never raise."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

import pysnmp_mibs
from pyasn1.type import univ
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import builder

from ..identify import decode_text, normalize_oid
from .types import IF_STATUS, MAX_STRING

log = logging.getLogger("onenet.collectors.snmp")

# ------------------------------------------------------------------ value coercion

_INT_TYPES = (univ.Integer, rfc1902.Counter32, rfc1902.Counter64, rfc1902.Gauge32, rfc1902.TimeTicks,
              rfc1902.Unsigned32, rfc1902.Integer32)
_END_TYPES = (rfc1905.EndOfMibView, rfc1905.NoSuchObject, rfc1905.NoSuchInstance)


def _oid_str(oid) -> str:
    return ".".join(str(x) for x in tuple(oid))


def as_int(value, *, lo: int = 0, hi: int = 2**64 - 1) -> int | None:
    """An integer from an SNMP value, tolerating OctetStrings with digits; None when absurd."""
    if value is None or isinstance(value, _END_TYPES) or isinstance(value, univ.Null):
        return None
    try:
        if isinstance(value, (univ.OctetString, bytes, bytearray, str)):
            text = decode_text(value, 32)
            text = (text or "").strip()
            if not text or not text.lstrip("-").isdigit():
                return None
            n = int(text)
        elif isinstance(value, univ.ObjectIdentifier):
            return None
        else:
            n = int(value)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    except Exception:  # noqa: BLE001 - pyasn1 raises its own errors on uninitialised values
        return None
    if n < lo or n > hi:
        return None
    return n


def as_text(value, limit: int = MAX_STRING) -> str | None:
    if value is None or isinstance(value, _END_TYPES) or isinstance(value, univ.Null):
        return None
    try:
        if isinstance(value, univ.OctetString):
            return decode_text(bytes(value), limit)
        if isinstance(value, univ.ObjectIdentifier):
            return _oid_str(value)
        if isinstance(value, univ.Integer):
            return str(int(value))
        return decode_text(value, limit)
    except Exception:  # noqa: BLE001
        return None


def _strip(text: str | None) -> str | None:
    return text.strip() if text is not None else None


def as_mac(value) -> str | None:
    """ifPhysAddress as 12 lowercase hex digits ('' for an empty address), None when unusable."""
    if value is None or isinstance(value, _END_TYPES):
        return None
    try:
        raw = bytes(value) if isinstance(value, univ.OctetString) else None
    except Exception:  # noqa: BLE001
        raw = None
    if raw is None:
        return None
    if len(raw) == 0:
        return ""
    if len(raw) in (6, 8):
        return raw.hex()
    # some agents answer the textual form "00:11:22:33:44:55" or "0011.2233.4455"
    text = raw.decode("ascii", errors="ignore").strip().replace(":", "").replace("-", "").replace(".", "")
    if len(text) == 12 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    return raw[:32].hex()


def as_oid(value) -> str | None:
    if isinstance(value, univ.ObjectIdentifier):
        return _oid_str(value)
    return normalize_oid(as_text(value, 256))


def status_name(value) -> str | None:
    n = as_int(value, lo=1, hi=7)
    return IF_STATUS.get(n) if n is not None else None


@cache
def if_type_names() -> dict[int, str]:
    """{ifType number: IANAifType name} for the whole IANA registry, from the IANAifType-MIB that pysnmp-mibs
    ships compiled (loaded once per process)."""
    mibs = builder.MibBuilder()
    mibs.add_mib_sources(builder.DirMibSource(str(Path(pysnmp_mibs.__file__).parent)))
    with warnings.catch_warnings():  # the package was compiled for pysnmp 4's camelCase API, still accepted
        warnings.simplefilter("ignore", DeprecationWarning)
        mibs.load_modules("IANAifType-MIB")
        (if_type,) = mibs.import_symbols("IANAifType-MIB", "IANAifType")
    return {int(number): name for name, number in if_type.namedValues.items()}


def type_name(value) -> str | None:
    """The IANAifType name of an ifType value; a number the registry does not name stays visible as digits."""
    n = as_int(value, lo=0, hi=2**31 - 1)
    if n is None:
        return None
    return if_type_names().get(n, str(n))


