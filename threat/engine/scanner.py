"""The capture scanner: frames in, DESIGN's `threat scan` JSON out.

`Scanner.feed(ts, linktype, frame)` is the whole per-packet path, shared by `scan_files()` (capture files)
and a live sensor. Frames that are neither TCP on an SMB port nor DNS cost one `decode()` call.
"""

from __future__ import annotations

import os
import struct
import time

from .detectors import (
    AlertBook,
    DoublePulsarDetector,
    EternalBlueDetector,
    KillSwitchDetector,
    Ms17010Detector,
    SmbScanDetector,
    SmbV1Detector,
    tree_path,
)
from .packets import LINKTYPE_ETHERNET, TCP, decode
from .pcapio import MAX_RECORD, chunks, open_classic_pcap, read_frames
from .smb import (
    MAX_TRANSACTIONS,
    SECONDARY_OF,
    SMB_COM_NEGOTIATE,
    SMB_COM_NT_TRANSACT,
    SMB_COM_TREE_CONNECT_ANDX,
    SmbAnalyser,
    Transaction,
)

_PRIMARIES = frozenset(SECONDARY_OF.values())
TRANS_NO_RESPONSE = 0x0002  # TRANSACTION(2) flag: a one-way transaction, the server never answers it
MAX_PAIRS = 300_000  # (source, destination) pairs already counted for smb-scan


def _transaction(message) -> Transaction:
    """The transaction a primary request opens; a complete one-way transaction is over as soon as it is sent."""
    fields = message.transaction()
    if fields is None:
        return Transaction(message.command, None)
    if message.command == SMB_COM_NT_TRANSACT:
        return Transaction(message.command, fields["function"])
    one_way = (fields["flags"] & TRANS_NO_RESPONSE and fields["param_count"] >= fields["total_param"]
               and fields["data_count"] >= fields["total_data"])
    return Transaction(message.command, fields["setup"][0] if fields["setup"] else None, in_progress=not one_way)


class Scanner:
    """Feed frames, read alerts. Keeps bounded state, so it can run forever on a live interface."""

    def __init__(self, scan_threshold: int = 10):
        self.book = AlertBook()
        self.smb_detectors = [EternalBlueDetector(), DoublePulsarDetector(), Ms17010Detector(), SmbV1Detector()]
        self.scan = SmbScanDetector(threshold=scan_threshold)
        self.killswitch = KillSwitchDetector()
        self.smb = SmbAnalyser(self)
        self.packets = 0
        self.bytes = 0
        self._pairs: set[bytes] = set()

    # -- SmbAnalyser handler -------------------------------------------------------------------------------
    def smb1(self, conn, message) -> None:
        """Keep the per-connection SMB1 state (dialects, trees, transactions), then run the detectors."""
        command = message.command
        opened = None
        if not message.reply:
            if command == SMB_COM_NEGOTIATE:
                conn.dialects = [d.split(b"\x00", 1)[0].decode("latin-1") for d in message.data.split(b"\x02")[1:]][:32]
            elif command == SMB_COM_TREE_CONNECT_ANDX:
                conn.requests[("tree", message.pid, message.mid, message.uid)] = tree_path(message)
            elif command in _PRIMARIES:
                transactions = conn.transactions
                if len(transactions) >= MAX_TRANSACTIONS:
                    transactions.pop(next(iter(transactions)))
                opened = transactions[message.key] = _transaction(message)
            elif command in SECONDARY_OF:
                primary = conn.transactions.get(message.key)
                message.primary = primary.command if primary is not None else None
        elif command == SMB_COM_TREE_CONNECT_ANDX:
            path = conn.requests.pop(("tree", message.pid, message.mid, message.uid), None)
            if path and message.status == 0 and len(conn.trees) < 64:
                conn.trees[message.tid] = path
        for detector in self.smb_detectors:
            detector.smb1(conn, message, self.book)
        if not message.reply:
            conn.previous_primary = opened
        elif command in _PRIMARIES and (message.status or message.words):
            # Not the interim response (success, no words) that asks for the secondaries: the final one (or an
            # error), so the transaction is over and its MID free for the client to reuse.
            answered = conn.transactions.get(message.key)
            if answered is not None:
                answered.in_progress = False
        if len(conn.requests) > MAX_TRANSACTIONS:
            conn.requests.pop(next(iter(conn.requests)))

    def smb2(self, conn, message) -> None:
        """SMB2/3 carries none of the MS17-010 bugs; the analyser records the dialect on the connection."""

    # -- per frame ---------------------------------------------------------------------------------------
    def feed(self, ts: float, linktype: int, frame: bytes) -> None:
        """Analyse one frame (live sensors call this; `scan_file` has an inlined fast path for files)."""
        self.packets += 1
        self.bytes += len(frame)
        self._analyse(ts, linktype, frame)

    def _analyse(self, ts: float, linktype: int, frame: bytes) -> None:
        decoded = decode(linktype, frame)
        if decoded is None:
            return
        proto, src, dst, sport, dport, seq, flags, payload = decoded
        if proto == TCP:
            if dport == 445:
                pair = src + dst
                if pair not in self._pairs:
                    if len(self._pairs) >= MAX_PAIRS:
                        self._pairs.clear()
                    self._pairs.add(pair)
                    self.scan.note(ts, src, dst)
            self.smb.segment(ts, src, dst, sport, dport, seq, flags, payload)
        else:
            try:
                self.killswitch.dns(ts, src, dst, dport, payload, self.book)
            except IndexError:
                pass

    def scan_file(self, path, warnings: list[str]) -> None:
        """Analyse a capture file. Classic pcap gets the hot loop below: records are walked in place in
        each 4 MiB chunk, and frames that cannot matter (IPv4 TCP on other ports, packets of SMB2/3
        connections whose payload is no longer parsed) are dismissed from a few byte reads, with no slicing
        and no function call. Everything else goes through `_analyse` like a live frame."""
        opened = open_classic_pcap(path, warnings)
        if opened is None:
            for ts, linktype, frame in read_frames(path, warnings):
                self.packets += 1
                self.bytes += len(frame)
                self._analyse(ts, linktype, frame)
            return
        stream, linktype, endian, tick = opened
        record = struct.Struct(endian + "IIII").unpack_from
        done = self.smb.done_keys
        analyse = self._analyse
        ethernet = linktype == LINKTYPE_ETHERNET
        packets = size = 0
        rest = b""
        with stream:
            for data in chunks(stream, path, warnings):
                buf = rest + data if rest else data
                end = len(buf)
                pos = 0
                while pos + 16 <= end:
                    sec, frac, caplen, _origlen = record(buf, pos)
                    if caplen > MAX_RECORD:
                        warnings.append(f"{path}: corrupt record header (length {caplen}); analysed up to here")
                        self.packets += packets
                        self.bytes += size
                        return
                    f = pos + 16
                    stop = f + caplen
                    if stop > end:
                        break
                    pos = stop
                    packets += 1
                    size += caplen
                    if ethernet and caplen >= 54 and buf[f + 12] == 8 and buf[f + 13] == 0 and buf[f + 14] == 0x45:
                        proto = buf[f + 23]
                        if proto == 6:
                            dport = buf[f + 36] << 8 | buf[f + 37]
                            sport = buf[f + 34] << 8 | buf[f + 35]
                            if dport != 445 and sport != 445 and dport != 139 and sport != 139:
                                continue
                            if not buf[f + 47] & 7 and buf[f + 26:f + 38] in done:  # no SYN/FIN/RST
                                continue
                        elif proto == 17:
                            if buf[f + 34:f + 36] != b"\x00\x35" and buf[f + 36:f + 38] != b"\x00\x35":
                                continue
                        else:
                            continue
                    elif caplen < 20:  # shorter than an IP header: zero-filled or garbage, not worth a call
                        continue
                    analyse(sec + frac * tick, linktype, buf[f:stop])
                rest = buf[pos:] if pos < end else b""
        if rest:
            warnings.append(f"{path}: truncated capture ({len(rest)} trailing bytes of an incomplete record)")
        self.packets += packets
        self.bytes += size

    def alerts(self) -> list[dict]:
        """Current alerts, most severe first (DESIGN's alert dicts)."""
        return self.book.export(self.scan.alerts())


def scan_files(paths, scan_threshold: int = 10) -> dict:
    """Analyse capture files (pcap/pcapng, gzip'd or not) as one traffic stream.

    Returns {"alerts", "packets", "bytes", "seconds", "warnings"}. A missing file raises FileNotFoundError
    before anything is read; a damaged file is analysed as far as it goes and named in `warnings`.
    """
    paths = [os.fspath(p) for p in paths]
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"capture file not found: {path}")
    started = time.perf_counter()
    scanner = Scanner(scan_threshold=scan_threshold)
    warnings: list[str] = []
    for path in paths:
        scanner.scan_file(path, warnings)
    alerts = scanner.alerts()
    return {"alerts": alerts, "packets": scanner.packets, "bytes": scanner.bytes,
            "seconds": round(time.perf_counter() - started, 3), "warnings": warnings}
