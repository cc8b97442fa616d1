"""Fast link/network/transport decoding with struct offsets, for the scan hot path.

`decode()` looks at a frame and returns only what the detectors need, and only for the traffic they
need (TCP to or from the SMB ports, UDP DNS); every other frame costs a few index operations and
returns None. No scapy here: scapy builds ~2 k packets/s, the scanner must do hundreds of thousands.
Addresses stay raw bytes (4 or 16) until an alert is written; `ip_text()` renders them.
"""

from __future__ import annotations

import socket
import struct

# Link types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_RAW_ALT = (12, 14)
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
# What decode() reads; a capture of any other link type is counted but cannot be analysed.
SUPPORTED_LINKTYPES = frozenset((LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, *LINKTYPE_RAW_ALT, LINKTYPE_LOOP,
                                 LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2))

SMB_PORTS = frozenset((445, 139))
DNS_PORT = 53

TCP = 6
UDP = 17

# TCP flags
FIN = 0x01
SYN = 0x02
RST = 0x04
ACK = 0x10

_HH = struct.Struct(">HH")
_HHIIBB = struct.Struct(">HHIIBB")
_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options (fragments are skipped)


def network_offset(linktype: int, frame: bytes) -> tuple[int, int]:
    """(ethertype, offset of the network header) for a frame; ethertype 0 when not IP."""
    if linktype == LINKTYPE_ETHERNET:
        ethertype = frame[12] << 8 | frame[13]
        offset = 14
        while ethertype in _VLAN_TYPES:
            ethertype = frame[offset + 2] << 8 | frame[offset + 3]
            offset += 4
        return ethertype, offset
    if linktype == LINKTYPE_LINUX_SLL:
        return frame[14] << 8 | frame[15], 16
    if linktype == LINKTYPE_LINUX_SLL2:
        return frame[0] << 8 | frame[1], 20
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6) or linktype in LINKTYPE_RAW_ALT:
        version = frame[0] >> 4
        return (0x0800 if version == 4 else 0x86DD if version == 6 else 0), 0
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        version = frame[4] >> 4
        return (0x0800 if version == 4 else 0x86DD if version == 6 else 0), 4
    return 0, 0


def decode(linktype: int, frame: bytes):
    """Decode what the detectors need, or None for frames they never look at.

    Returns (proto, src, dst, sport, dport, seq, flags, payload) for TCP to or from an SMB port and for UDP
    to or from port 53 (seq and flags 0). Every other frame, and malformed or truncated ones, return None.
    """
    try:
        if linktype == LINKTYPE_ETHERNET:  # network_offset() inlined for the common case: a call per frame counts
            ethertype = frame[12] << 8 | frame[13]
            offset = 14
            while ethertype in _VLAN_TYPES:
                ethertype = frame[offset + 2] << 8 | frame[offset + 3]
                offset += 4
        else:
            ethertype, offset = network_offset(linktype, frame)
        if ethertype == 0x0800:
            ihl = (frame[offset] & 0x0F) << 2
            proto = frame[offset + 9]
            if proto != TCP and proto != UDP:
                return None
            if (frame[offset + 6] & 0x1F) or frame[offset + 7]:  # not the first fragment
                return None
            end = offset + (frame[offset + 2] << 8 | frame[offset + 3])  # drops Ethernet padding
            src = frame[offset + 12:offset + 16]
            dst = frame[offset + 16:offset + 20]
            offset += ihl
        elif ethertype == 0x86DD:
            proto = frame[offset + 6]
            end = offset + 40 + (frame[offset + 4] << 8 | frame[offset + 5])
            src = frame[offset + 8:offset + 24]
            dst = frame[offset + 24:offset + 40]
            offset += 40
            while proto in _IPV6_EXTENSIONS:
                proto = frame[offset]
                offset += (frame[offset + 1] + 1) << 3
            if proto != TCP and proto != UDP:
                return None
        else:
            return None
        if proto == TCP:
            sport, dport, seq, _ack, doff, flags = _HHIIBB.unpack_from(frame, offset)
            if sport in SMB_PORTS or dport in SMB_PORTS:
                start = offset + ((doff >> 4) << 2)
                return TCP, src, dst, sport, dport, seq, flags, frame[start:end]
            return None
        sport, dport = _HH.unpack_from(frame, offset)
        if sport == DNS_PORT or dport == DNS_PORT:
            return UDP, src, dst, sport, dport, 0, 0, frame[offset + 8:end]
        return None
    except (IndexError, struct.error):
        return None


def ip_text(raw: bytes) -> str:
    """Render a 4- or 16-byte address."""
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)
