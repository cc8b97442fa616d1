"""Streaming capture reader: classic pcap (µs and ns) and pcapng, plain or gzip'd.

The file is read in large chunks and records are cut out with `struct.unpack_from`, so memory stays
flat however big the capture is (no mmap: mapped pages count towards the RSS of the scanner).
A truncated or corrupt capture is read as far as it goes; what went wrong is appended to `warnings`
instead of raising, because an analyst wants the alerts of the good part of a damaged file. Hostile input is
bounded: a gzip stream stops at a decompression ratio no real capture reaches, and a pcapng packet whose time
no datetime can hold is skipped and named by its number.
"""

from __future__ import annotations

import datetime
import struct
import zlib
from collections.abc import Iterator

from .packets import SUPPORTED_LINKTYPES

CHUNK = 4 * 1024 * 1024
READ_ERRORS = (OSError, EOFError, zlib.error)
# A record longer than this is corruption, not a packet (the largest snaplen in use is 256 KiB).
MAX_RECORD = 1 << 20
# Real captures gzip 1-5:1 and an SMB copy of an all-zero file about 100:1; zeros reach 1000:1. The ratio is
# checked every MiB of output once a MiB is out (the first KiBs of a stream say little).
MAX_GZIP_RATIO = 200
GZIP_STEP = 1 << 20
# Packet times must fall before 2108, past anything a classic pcap can hold (32-bit seconds end in 2106): a later
# pcapng time (an absurd if_tsresol, a corrupt timestamp) is corruption, and datetime stops at year 9999 anyway.
LATEST_TIME = datetime.datetime(2108, 1, 1, tzinfo=datetime.UTC).timestamp()
MAX_PACKET_WARNINGS = 10  # per file and kind of problem; then one summary line

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"


class CaptureFormatError(ValueError):
    """The file is not a pcap or pcapng capture."""


def open_binary(path):
    """Open `path` for reading, transparently un-gzipping it."""
    raw = open(path, "rb")  # the caller closes it
    head = raw.read(2)
    raw.seek(0)
    if head == GZIP_MAGIC:
        return Gunzip(raw)
    return raw


class Gunzip:
    """A gzip reader that keeps what it could decompress when the file is truncated or corrupt.

    (`gzip.GzipFile.read(n)` raises EOFError on a truncated file and drops the whole read.) Concatenated
    members are supported; `error` says what went wrong, if anything, once `read()` returns b"".
    """

    def __init__(self, raw):
        self.raw = raw
        self.inflater = zlib.decompressobj(31)
        self.source = b""
        self.compressed = 0  # bytes read from the file
        self.inflated = 0  # bytes returned
        self.in_member = False
        self.finished = False
        self.error: str | None = None

    def read(self, size: int) -> bytes:
        parts = []
        have = 0
        while have < size and not self.finished:
            if not self.source:
                self.source = self.raw.read(1 << 20)
                self.compressed += len(self.source)
                if not self.source:
                    if self.in_member:
                        self.error = "gzip stream ends early (truncated file)"
                    self.finished = True
                    break
            if self.inflater.eof:  # the next member of a concatenated gzip file
                # zero padding after the last member; the first-byte test spares a copy per member
                if self.source[:1] == b"\x00" and not self.source.strip(b"\x00"):
                    self.source = b""
                    continue
                self.inflater = zlib.decompressobj(31)
            try:
                piece = self.inflater.decompress(self.source, min(size - have, GZIP_STEP))
            except zlib.error as error:
                self.error = f"corrupt gzip data ({error})"
                self.finished = True
                break
            self.in_member = not self.inflater.eof
            self.source = self.inflater.unused_data if self.inflater.eof else self.inflater.unconsumed_tail
            parts.append(piece)
            have += len(piece)
            self.inflated += len(piece)
            consumed = self.compressed - len(self.source)
            if self.inflated > GZIP_STEP and self.inflated > MAX_GZIP_RATIO * consumed:
                self.error = (f"decompression ratio {self.inflated // max(consumed, 1)}:1 after {self.inflated} "
                              f"bytes is beyond the {MAX_GZIP_RATIO}:1 no capture reaches (a gzip bomb)")
                self.finished = True
        return b"".join(parts)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def read_frames(path, warnings: list[str] | None = None) -> Iterator[tuple[float, int, bytes]]:
    """Yield (timestamp, linktype, frame bytes) for every record of a pcap/pcapng file (gzip'd or not)."""
    if warnings is None:
        warnings = []
    with open_binary(path) as stream:
        try:
            head = stream.read(4)
        except READ_ERRORS as error:
            warnings.append(f"{path}: cannot read: {error}")
            return
        if head in PCAP_MAGICS:
            yield from _read_pcap(stream, head, path, warnings)
        elif head == PCAPNG_SHB:
            yield from _read_pcapng(stream, head, path, warnings)
        else:
            warnings.append(f"{path}: not a pcap or pcapng capture (magic {head.hex() or 'empty'}); nothing read")


def open_classic_pcap(path, warnings: list[str]):
    """(stream, linktype, endian, tick) for a classic pcap file (gzip'd or not), or None for anything else.

    For callers that walk records in place in each chunk (the scanner's hot loop); `read_frames()` is the
    general interface. The caller closes the stream and reads it with `chunks()`.
    """
    stream = open_binary(path)
    try:
        head = stream.read(24)
    except READ_ERRORS:
        stream.close()
        return None
    if head[:4] not in PCAP_MAGICS or len(head) < 24:
        stream.close()
        return None
    endian, tick = PCAP_MAGICS[head[:4]]
    linktype = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
    _check_linktype(linktype, "the capture", path, warnings)
    return stream, linktype, endian, tick


def _check_linktype(linktype: int, where: str, path, warnings) -> bool:
    """Warn about a link type decode() cannot read (its packets would otherwise vanish without a word)."""
    if linktype in SUPPORTED_LINKTYPES:
        return True
    warnings.append(f"{path}: {where} has link type {linktype}, which the scanner cannot decode (it reads Ethernet, "
                    f"Linux cooked SLL/SLL2, raw IP and BSD loopback); its packets are counted, not analysed")
    return False


def chunks(stream, path, warnings):
    """Large reads of a stream; a read error ends the stream with a warning."""
    return _chunks(stream, path, warnings)


def _chunks(stream, path, warnings):
    while True:
        try:
            data = stream.read(CHUNK)
        except READ_ERRORS as error:
            warnings.append(f"{path}: read error, analysed up to here: {error}")
            return
        if not data:
            error = getattr(stream, "error", None)
            if error:
                warnings.append(f"{path}: {error}; analysed up to here")
            return
        yield data


def _read_pcap(stream, magic, path, warnings):
    endian, tick = PCAP_MAGICS[magic]
    rest = stream.read(20)
    if len(rest) < 20:
        warnings.append(f"{path}: truncated pcap file header")
        return
    linktype = struct.unpack(endian + "I", rest[16:20])[0] & 0x0FFFFFFF
    _check_linktype(linktype, "the capture", path, warnings)
    record = struct.Struct(endian + "IIII")
    unpack_from = record.unpack_from
    buf = b""
    pos = 0
    for data in _chunks(stream, path, warnings):
        buf = buf[pos:] + data if pos < len(buf) else data
        pos = 0
        end = len(buf)
        while pos + 16 <= end:
            sec, frac, caplen, _origlen = unpack_from(buf, pos)
            if caplen > MAX_RECORD:
                warnings.append(f"{path}: corrupt record header (length {caplen}); analysed up to here")
                return
            stop = pos + 16 + caplen
            if stop > end:
                break
            yield sec + frac * tick, linktype, buf[pos + 16:stop]
            pos = stop
    if pos < len(buf):
        warnings.append(f"{path}: truncated capture ({len(buf) - pos} trailing bytes of an incomplete record)")


def _read_pcapng(stream, magic, path, warnings):
    bad_times = [0]
    try:
        yield from _pcapng_blocks(stream, magic, path, warnings, bad_times)
    finally:
        if bad_times[0] > MAX_PACKET_WARNINGS:
            warnings.append(f"{path}: {bad_times[0]} packets skipped in all for a time after 2107 (the first "
                            f"{MAX_PACKET_WARNINGS} are named above)")


def _pcapng_blocks(stream, magic, path, warnings, bad_times):
    endian = "<"
    interfaces: list[tuple[int, float]] = []  # (linktype, seconds per tick)
    unknown_links: set[int] = set()
    number = 0  # packet blocks so far: packet N in a warning is Wireshark's frame N
    buf = magic
    pos = 0
    for data in _chunks(stream, path, warnings):
        buf = buf[pos:] + data if pos < len(buf) else data
        pos = 0
        end = len(buf)
        while pos + 12 <= end:
            if buf[pos:pos + 4] == PCAPNG_SHB:
                bom = buf[pos + 8:pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    warnings.append(f"{path}: corrupt pcapng section header; analysed up to here")
                    return
                interfaces = []
            block_type, block_len = struct.unpack_from(endian + "II", buf, pos)
            if block_len < 12 or block_len % 4 or block_len > MAX_RECORD:
                warnings.append(f"{path}: corrupt pcapng block (length {block_len}); analysed up to here")
                return
            stop = pos + block_len
            if stop > end:
                break
            if block_type == 6 or block_type == 2:  # enhanced / obsolete packet block
                number += 1
                if block_type == 6:
                    iface, ts_hi, ts_lo, caplen = struct.unpack_from(endian + "IIII", buf, pos + 8)
                else:
                    iface, _drops, ts_hi, ts_lo, caplen = struct.unpack_from(endian + "HHIII", buf, pos + 8)
                if iface < len(interfaces) and 28 + caplen <= block_len:
                    linktype, tick = interfaces[iface]
                    ts = ((ts_hi << 32) | ts_lo) * tick
                    if ts < LATEST_TIME:
                        yield ts, linktype, buf[pos + 28:pos + 28 + caplen]
                    else:  # alerts must render and store their times: skip the packet, name it
                        bad_times[0] += 1
                        if bad_times[0] <= MAX_PACKET_WARNINGS:
                            warnings.append(f"{path}: packet {number} skipped: its time ({ts:.3g} s since 1970) is "
                                            f"after 2107 (corrupt timestamp or if_tsresol)")
            elif block_type == 1:  # interface description block
                linktype = struct.unpack_from(endian + "H", buf, pos + 8)[0]
                if linktype not in unknown_links and len(unknown_links) < MAX_PACKET_WARNINGS and \
                        not _check_linktype(linktype, f"interface {len(interfaces)}", path, warnings):
                    unknown_links.add(linktype)
                interfaces.append((linktype, _if_tsresol(buf, pos + 16, stop - 4, endian)))
            elif block_type == 3:  # simple packet block: no timestamp
                number += 1
                origlen = struct.unpack_from(endian + "I", buf, pos + 8)[0]
                if interfaces:
                    yield 0.0, interfaces[0][0], buf[pos + 12:min(stop - 4, pos + 12 + origlen)]
            pos = stop
    if pos < len(buf):
        warnings.append(f"{path}: truncated capture ({len(buf) - pos} trailing bytes of an incomplete block)")


def _if_tsresol(buf, pos, stop, endian) -> float:
    """The if_tsresol option of an interface description block (default microseconds)."""
    while pos + 4 <= stop:
        code, length = struct.unpack_from(endian + "HH", buf, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = buf[pos + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value
        pos += 4 + (length + 3) // 4 * 4
    return 1e-6
