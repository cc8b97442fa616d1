"""A minimal BER codec for SNMP messages (v1, v2c, v3 USM), bytes and ints only.

Only what an agent needs: decode a request, encode a response.  OIDs are tuples of ints, so Python's tuple
ordering is SNMP's lexicographic OID ordering.  Values travel as ready-made TLV bytes (`tlv_*` helpers), so the
agent can precompute the static ones and splice them into a response without re-encoding.
"""

from __future__ import annotations

# Universal and SNMP application tags.
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

# PDU tags.
GET = 0xA0
GETNEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
TRAP_V1 = 0xA4
GETBULK = 0xA5
INFORM = 0xA6
TRAP_V2 = 0xA7
REPORT = 0xA8

# error-status values.
NO_ERROR = 0
TOO_BIG = 1
NO_SUCH_NAME = 2
GEN_ERR = 5
NO_ACCESS = 6
NOT_WRITABLE = 17
AUTHORIZATION_ERROR = 16

NULL_TLV = b"\x05\x00"
NO_SUCH_OBJECT_TLV = b"\x80\x00"
NO_SUCH_INSTANCE_TLV = b"\x81\x00"
END_OF_MIB_VIEW_TLV = b"\x82\x00"


class DecodeError(ValueError):
    """The bytes are not a well-formed SNMP message."""


# -- encoding ------------------------------------------------------------------------------

def length_bytes(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    if n < 0x10000:
        return bytes((0x82, n >> 8, n & 0xFF))
    return b"\x83" + n.to_bytes(3, "big")


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    return bytes((tag,)) + length_bytes(n) + content


def int_content(value: int) -> bytes:
    """Two's complement, minimal length: also right for unsigned Counter/Gauge/TimeTicks values."""
    if 0 <= value < 0x80:
        return bytes((value,))
    return value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)


def tlv_int(value: int, tag: int = INTEGER) -> bytes:
    if 0 <= value < 0x80:
        return bytes((tag, 1, value))
    content = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return bytes((tag, len(content))) + content


def tlv_str(value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return tlv(OCTET_STRING, value)


def oid_content(oid: tuple[int, ...]) -> bytes:
    if len(oid) < 2:
        oid = tuple(oid) + (0,) * (2 - len(oid))
    out = bytearray()
    first = oid[0] * 40 + oid[1]
    for arc in (first, *oid[2:]):
        if arc < 0x80:
            out.append(arc)
        else:
            chunk = [arc & 0x7F]
            arc >>= 7
            while arc:
                chunk.append(0x80 | (arc & 0x7F))
                arc >>= 7
            out.extend(reversed(chunk))
    return bytes(out)


def tlv_oid(oid: tuple[int, ...]) -> bytes:
    return tlv(OBJECT_IDENTIFIER, oid_content(oid))


def tlv_ip(address: str) -> bytes:
    return tlv(IP_ADDRESS, bytes(int(part) for part in address.split(".")))


def parse_oid(text: str) -> tuple[int, ...]:
    text = text.strip().lstrip(".")
    return tuple(int(arc) for arc in text.split(".")) if text else ()


def format_oid(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


def varbind(oid_tlv: bytes, value_tlv: bytes) -> bytes:
    return tlv(SEQUENCE, oid_tlv + value_tlv)


def response_pdu(request_id_tlv: bytes, error_status: int, error_index: int, varbinds: bytes,
                 tag: int = RESPONSE) -> bytes:
    return tlv(tag, request_id_tlv + tlv_int(error_status) + tlv_int(error_index) + tlv(SEQUENCE, varbinds))


def community_message(version: int, community: bytes, pdu: bytes) -> bytes:
    return tlv(SEQUENCE, tlv_int(version) + tlv(OCTET_STRING, community) + pdu)


# -- decoding ------------------------------------------------------------------------------

def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the TLV at `pos`."""
    try:
        tag = data[pos]
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            count = n & 0x7F
            if count == 0 or count > 4:
                raise DecodeError("unsupported length form")
            n = int.from_bytes(data[pos:pos + count], "big")
            pos += count
    except IndexError:
        raise DecodeError("truncated") from None
    end = pos + n
    if end > len(data):
        raise DecodeError("truncated")
    return tag, pos, end


def expect(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    got, start, end = read_tlv(data, pos)
    if got != tag:
        raise DecodeError(f"expected tag {tag:#x}, got {got:#x}")
    return start, end


def decode_int(data: bytes, start: int, end: int) -> int:
    return int.from_bytes(data[start:end], "big", signed=True)


_OID_CACHE: dict[bytes, tuple[int, ...]] = {}


def decode_oid(content: bytes) -> tuple[int, ...]:
    cached = _OID_CACHE.get(content)
    if cached is not None:
        return cached
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise DecodeError("empty OID")
    first = arcs[0]
    if first < 40:
        head = (0, first)
    elif first < 80:
        head = (1, first - 40)
    else:
        head = (2, first - 80)
    oid = head + tuple(arcs[1:])
    if len(_OID_CACHE) > 50_000:
        _OID_CACHE.clear()
    _OID_CACHE[content] = oid
    return oid


class Pdu:
    """A decoded request PDU. `request_id_tlv` is kept raw so the response can echo it byte for byte."""

    __slots__ = ("tag", "request_id_tlv", "request_id", "field1", "field2", "oids", "values")

    def __init__(self, tag, request_id_tlv, request_id, field1, field2, oids, values):
        self.tag = tag
        self.request_id_tlv = request_id_tlv
        self.request_id = request_id
        self.field1 = field1  # error-status, or non-repeaters for GETBULK
        self.field2 = field2  # error-index, or max-repetitions for GETBULK
        self.oids = oids
        self.values = values  # raw value TLVs of the request's varbinds


def decode_pdu(data: bytes, pos: int) -> tuple[Pdu, int]:
    tag, start, end = read_tlv(data, pos)
    if tag < 0xA0 or tag > 0xA8:
        raise DecodeError(f"not a PDU: {tag:#x}")
    rid_tag, rs, re_ = read_tlv(data, start)
    if rid_tag != INTEGER:
        raise DecodeError("bad request-id")
    request_id_tlv = data[start:re_]
    request_id = decode_int(data, rs, re_)
    s1, e1 = expect(data, re_, INTEGER)
    s2, e2 = expect(data, e1, INTEGER)
    vs, ve = expect(data, e2, SEQUENCE)
    oids = []
    values = []
    pos2 = vs
    while pos2 < ve:
        bs, be = expect(data, pos2, SEQUENCE)
        os_, oe = expect(data, bs, OBJECT_IDENTIFIER)
        oids.append(decode_oid(data[os_:oe]))
        values.append(data[oe:be])
        pos2 = be
    return Pdu(tag, request_id_tlv, request_id, decode_int(data, s1, e1), decode_int(data, s2, e2), oids,
               values), end


class CommunityMessage:
    __slots__ = ("version", "community", "pdu")

    def __init__(self, version, community, pdu):
        self.version = version
        self.community = community
        self.pdu = pdu


def decode_version(data: bytes) -> tuple[int, int]:
    """(version, position after the version field) of an SNMP message."""
    start, _ = expect(data, 0, SEQUENCE)
    vs, ve = expect(data, start, INTEGER)
    return decode_int(data, vs, ve), ve


def decode_community_message(data: bytes) -> CommunityMessage:
    version, pos = decode_version(data)
    cs, ce = expect(data, pos, OCTET_STRING)
    pdu, _ = decode_pdu(data, ce)
    return CommunityMessage(version, data[cs:ce], pdu)


def decode_value(tlv_bytes: bytes):
    """A Python value for a value TLV (used by tests and tools, not on the agent's hot path)."""
    tag, start, end = read_tlv(tlv_bytes, 0)
    content = tlv_bytes[start:end]
    if tag in (INTEGER,):
        return decode_int(tlv_bytes, start, end)
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return int.from_bytes(content, "big")
    if tag in (OCTET_STRING, OPAQUE):
        return content
    if tag == OBJECT_IDENTIFIER:
        return decode_oid(content)
    if tag == IP_ADDRESS:
        return ".".join(str(b) for b in content)
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        return None
    return content
