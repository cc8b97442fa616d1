"""The live sensor: a raw AF_PACKET socket with a kernel BPF filter, frames fed to the engine's Scanner, and the
alerts flushed into the database every second.

The filter is DESIGN's `tcp port 445 or tcp port 139 or udp port 53 or udp port 137 or udp port 138`, assembled
here as classic BPF (no tcpdump/libpcap needed at run time): IPv4 (first fragments only) and IPv6 (no extension
headers) on Ethernet, either port. The kernel drops everything else, so the sensor sees only SMB, NetBIOS and DNS.

The sensor only listens. Replaying a capture onto an interface is the lab's (lab.live.replay); production code
never imports the lab.
"""

from __future__ import annotations

import ctypes
import logging
import select
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_OUTGOING = 4
LINKTYPE_ETHERNET = 1
TCP_PORTS = (445, 139)
UDP_PORTS = (53, 137, 138)
FILTER_TEXT = "tcp port 445 or tcp port 139 or udp port 53 or udp port 137 or udp port 138"

# classic BPF opcodes
LDH_ABS, LDB_ABS, LDH_IND, LDXB_MSH = 0x28, 0x30, 0x48, 0xB1
JEQ_K, JSET_K, RET_K = 0x15, 0x45, 0x06


def _port_checks(load_src, load_dst, ports) -> list:
    program = [load_src]
    program += [(JEQ_K, p, "accept", None) for p in ports]
    program.append(load_dst)
    program += [(JEQ_K, p, "accept", None) for p in ports[:-1]]
    program.append((JEQ_K, ports[-1], "accept", "drop"))
    return program


def bpf_program() -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions, labels resolved."""
    labelled = [
        (LDH_ABS, 12, None, None),
        (JEQ_K, 0x86DD, "ip6", None),
        (JEQ_K, 0x0800, None, "drop"),
        (LDB_ABS, 23, None, None),  # IPv4 protocol
        (JEQ_K, 6, "tcp4", None),
        (JEQ_K, 17, None, "drop"),
        (LDH_ABS, 20, None, None),  # UDP over IPv4: fragment offset must be 0
        (JSET_K, 0x1FFF, "drop", None),
        (LDXB_MSH, 14, None, None),  # X = IPv4 header length
        *_port_checks((LDH_IND, 14, None, None), (LDH_IND, 16, None, None), UDP_PORTS),
        "tcp4",
        (LDH_ABS, 20, None, None),
        (JSET_K, 0x1FFF, "drop", None),
        (LDXB_MSH, 14, None, None),
        *_port_checks((LDH_IND, 14, None, None), (LDH_IND, 16, None, None), TCP_PORTS),
        "ip6",
        (LDB_ABS, 20, None, None),  # IPv6 next header
        (JEQ_K, 6, "tcp6", None),
        (JEQ_K, 17, None, "drop"),
        *_port_checks((LDH_ABS, 54, None, None), (LDH_ABS, 56, None, None), UDP_PORTS),
        "tcp6",
        *_port_checks((LDH_ABS, 54, None, None), (LDH_ABS, 56, None, None), TCP_PORTS),
        "accept",
        (RET_K, 262144, None, None),
        "drop",
        (RET_K, 0, None, None),
    ]
    labels, index = {}, 0
    for item in labelled:
        if isinstance(item, str):
            labels[item] = index
        else:
            index += 1
    program, index = [], 0
    for item in labelled:
        if isinstance(item, str):
            continue
        code, k, jt, jf = item
        if code in (JEQ_K, JSET_K):
            offset_t = labels[jt] - index - 1 if jt else 0
            offset_f = labels[jf] - index - 1 if jf else 0
            assert 0 <= offset_t < 256 and 0 <= offset_f < 256
            program.append((code, offset_t, offset_f, k))
        else:
            program.append((code, 0, 0, k))
        index += 1
    return program


def bpf_accepts(frame: bytes) -> bool:
    """Run the BPF program in Python (tests check the kernel and this agree; handy for reasoning)."""
    program, pc, a, x = bpf_program(), 0, 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        try:
            if code == LDH_ABS:
                a = struct.unpack_from("!H", frame, k)[0]
            elif code == LDB_ABS:
                a = frame[k]
            elif code == LDH_IND:
                a = struct.unpack_from("!H", frame, x + k)[0]
            elif code == LDXB_MSH:
                x = 4 * (frame[k] & 0x0F)
            elif code == JEQ_K:
                pc += jt if a == k else jf
            elif code == JSET_K:
                pc += jt if a & k else jf
            elif code == RET_K:
                return k > 0
        except (IndexError, struct.error):
            return False  # the kernel also rejects a frame it cannot read


def attach_filter(sock: socket.socket) -> None:
    program = bpf_program()
    raw = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def open_capture(iface: str, promiscuous: bool = True) -> socket.socket:
    """A raw packet socket on `iface` that receives only what the BPF filter accepts.

    Protocol 0 at creation receives nothing; the filter is attached before bind() starts the flow, so no
    unfiltered frame is ever queued.
    """
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        attach_filter(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((iface, ETH_P_ALL))
        if promiscuous:
            index = socket.if_nametoindex(iface)
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0,
                                                                           b""))
    except BaseException:
        sock.close()
        raise
    return sock


class Sensor:
    """Capture on one interface until `seconds` pass or `stop()`; alerts reach the database every `flush_s`."""

    def __init__(self, iface: str, flush_s: float = 0.5, scan_threshold: int = 10, locate: bool = True):
        from threat.engine import Scanner

        self.iface = iface
        self.flush_s = flush_s
        self.scanner = Scanner(scan_threshold=scan_threshold)
        self.locate = locate
        self._stop = threading.Event()
        self.flushes = 0
        self.created = 0
        self.updated = 0
        self.ready = threading.Event()
        self.started_at = None
        self.flush_errors = 0
        self._tried: set[int] = set()

    def stop(self) -> None:
        self._stop.set()

    def flush(self, locator=None) -> dict:
        from threat.choices import AlertSource
        from threat.models import Alert
        from threat.services.alerts import ingest_alerts
        from threat.services.enrichment import locate_alert

        result = ingest_alerts(self.scanner.alerts(), AlertSource.SENSOR, locate=False)
        self.flushes += 1
        self.created += result["created"]
        self.updated += result["updated"]
        if self.locate:
            # Alerts this sensor created and nobody located yet (a flush that failed half-way leaves some):
            # from the collectors' tables now (database only), over SSH in the background when that fails.
            waiting = (Alert.objects.filter(source=AlertSource.SENSOR, located_at__isnull=True,
                                            created_at__gte=self.started_at)
                       .exclude(pk__in=self._tried).values_list("pk", flat=True))
            for pk in list(waiting):
                found = locate_alert(pk, ssh=False)
                self._tried.add(pk)
                if not found and locator is not None:
                    locator.submit(_locate, pk)
        return result

    def run(self, seconds: float | None = None) -> dict:
        from django.db import connection
        from django.utils import timezone

        self.started_at = timezone.now()
        sock = open_capture(self.iface)
        deadline = None if seconds is None else time.monotonic() + seconds
        locator = ThreadPoolExecutor(1, thread_name_prefix="threat-locate") if self.locate else None
        feed, linktype = self.scanner.feed, LINKTYPE_ETHERNET
        flushed_at, flushed_packets = time.monotonic(), 0
        started = time.monotonic()
        self.ready.set()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                readable, _, _ = select.select([sock], [], [], min(self.flush_s, 0.2))
                if readable:
                    # Drain what is queued, but never past the flush interval.
                    while time.monotonic() - flushed_at < self.flush_s:
                        try:
                            frame, address = sock.recvfrom(65535, socket.MSG_DONTWAIT)
                        except BlockingIOError:
                            break
                        if address[2] != PACKET_OUTGOING:
                            feed(time.time(), linktype, frame)
                if time.monotonic() - flushed_at >= self.flush_s:
                    if self.scanner.packets != flushed_packets and self._flush_safely(locator):
                        flushed_packets = self.scanner.packets
                    flushed_at = time.monotonic()
            if self.scanner.packets != flushed_packets:
                self._flush_safely(locator)
        finally:
            sock.close()
            if locator is not None:
                locator.shutdown(wait=True)
            connection.close()
        return {"iface": self.iface, "filter": FILTER_TEXT, "packets": self.scanner.packets,
                "bytes": self.scanner.bytes, "seconds": round(time.monotonic() - started, 3),
                "alerts": self.scanner.alerts(), "created": self.created, "updated": self.updated,
                "flushes": self.flushes, "flush_errors": self.flush_errors}

    def _flush_safely(self, locator) -> bool:
        """Flush; a database error is logged and the flush retried next interval (ingest is idempotent)."""
        from django.db import DatabaseError, connection

        try:
            self.flush(locator)
        except DatabaseError as error:
            self.flush_errors += 1
            log.warning("sensor %s: flush failed, retrying: %s", self.iface, error)
            connection.close_if_unusable_or_obsolete()
            return False
        return True


def _locate(alert_id: int) -> None:
    from threat.services.enrichment import locate_in_thread

    locate_in_thread(alert_id)
