"""Read snmpsim `.snmprec` recordings (`OID|TAG|VALUE` per line) into a MIB view served unchanged.

Tags: 2 Integer32, 4 OCTET STRING, 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
67 TimeTicks, 68 Opaque, 70 Counter64, 128/129/130 noSuchObject/noSuchInstance/endOfMibView.  A trailing `x`
on the tag (`4x`, `64x`, `68x`) means the value is hex.  snmpsim variation modules (`4:module`) are not run: the
value after the tag is served as a plain value of the base tag.  Records are sorted by OID whatever the file
order, so GETNEXT and GETBULK walk them in lexicographic order.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from lab.snmp import ber

_UNSIGNED = {65: ber.COUNTER32, 66: ber.GAUGE32, 67: ber.TIMETICKS, 70: ber.COUNTER64}


class RecordingError(ValueError):
    pass


def encode_value(tag_text: str, value: str) -> bytes:
    """The value TLV for one snmprec record's tag and value."""
    tag_text = tag_text.split(":", 1)[0]
    hexed = tag_text.endswith("x")
    tag = int(tag_text.rstrip("xe"))
    raw = bytes.fromhex(value) if hexed else None
    if tag == 2:
        return ber.tlv_int(int.from_bytes(raw, "big", signed=True) if hexed else int(value))
    if tag == 4:
        return ber.tlv(ber.OCTET_STRING, raw if hexed else value.encode("utf-8", "surrogateescape"))
    if tag == 5:
        return ber.NULL_TLV
    if tag == 6:
        return ber.tlv_oid(ber.parse_oid(value))
    if tag == 64:
        return ber.tlv(ber.IP_ADDRESS, raw) if hexed else ber.tlv_ip(value)
    if tag in _UNSIGNED:
        number = int.from_bytes(raw, "big") if hexed else int(value)
        return ber.tlv_int(number, _UNSIGNED[tag])
    if tag == 68:
        return ber.tlv(ber.OPAQUE, raw if hexed else value.encode("latin-1"))
    if tag in (128, 129, 130):
        return bytes((tag, 0))
    raise RecordingError(f"unsupported tag {tag_text!r}")


class Recording:
    """A MIB view over a recording: sorted OIDs, their TLVs, and the recorded value TLVs."""

    def __init__(self, records: list[tuple[tuple[int, ...], bytes]], community: bytes):
        records.sort(key=lambda record: record[0])
        deduplicated: dict[tuple[int, ...], bytes] = {}
        for oid, value in records:
            deduplicated[oid] = value
        self.oids = list(deduplicated)
        self.values = list(deduplicated.values())
        self.oid_tlvs = [ber.tlv_oid(oid) for oid in self.oids]
        self.index = {oid: pos for pos, oid in enumerate(self.oids)}
        self.community = community

    def next_pos(self, oid: tuple[int, ...]) -> int:
        return bisect_right(self.oids, oid)

    def value(self, pos: int, t: float) -> bytes:
        return self.values[pos]


def load(path: str | Path, community: str | None = None) -> Recording:
    """Read a `.snmprec` file; its community is the file's stem unless given (snmpsim's convention)."""
    path = Path(path)
    records = []
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            try:
                oid_text, tag_text, value = line.split("|", 2)
                records.append((ber.parse_oid(oid_text), encode_value(tag_text, value)))
            except (ValueError, RecordingError) as exc:
                raise RecordingError(f"{path}:{number}: {exc}: {line[:80]!r}") from None
    return Recording(records, (community or path.stem).encode())


def parse_records(path: str | Path) -> dict[str, tuple[str, str]]:
    """{oid: (tag, value)} as written in the file (for tests and tools)."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        if line and not line.startswith("#"):
            oid, tag, value = line.split("|", 2)
            out[oid] = (tag, value)
    return out
