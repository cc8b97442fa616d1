"""Lab traffic generator: scapy-crafted captures from the lab IP plan (office, EternalBlue, WannaCry, scans).

Every scenario is deterministic by seed and uses addresses from `lab.topology.generate()`, so the alerts a
capture raises map to agencies, sites and switch ports. TCP sessions have real handshakes, sequence and
acknowledgement numbers, MSS-sized segmentation and FIN teardown; SMB messages are built byte by byte
(NetBIOS session framing, SMB1 / SMB2 headers) the way Windows and the attack tools put them on the wire.

`big_capture()` is for benchmarks: it builds a template once with scapy and then repeats its raw frames
with shifted timestamps and client addresses (checksums patched incrementally), so hundreds of megabytes
are written in seconds.
"""

from __future__ import annotations

import ipaddress
import random
import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from lab.topology import generate

SCENARIOS = ("office", "eternalblue", "wannacry", "scan", "portscan", "smb1-benign")
BASE_TIME = 1_778_572_800.0  # 2026-05-12 08:00:00 UTC: a working morning
MSS = 1460
GATEWAY_MAC = "00:00:5e:00:01:01"  # VRRP virtual MAC of the agency gateway

KILLSWITCH_DOMAIN = "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com"

# SMB1 commands and statuses used here
NEGOTIATE, SESSION_SETUP_ANDX, TREE_CONNECT_ANDX = 0x72, 0x73, 0x75
TRANSACTION, TRANSACTION2, TRANSACTION2_SECONDARY = 0x25, 0x32, 0x33
NT_TRANSACT, ECHO = 0xA0, 0x2B
TRANSACTION_SECONDARY, WRITE_ANDX, NT_TRANSACT_SECONDARY = 0x26, 0x2F, 0xA1
STATUS_NOT_IMPLEMENTED = 0xC0000002
STATUS_INSUFF_SERVER_RESOURCES = 0xC0000205
STATUS_MORE_PROCESSING = 0xC0000016


# -- capture writing --------------------------------------------------------------------------------------
class Capture:
    """Frames (timestamp, bytes) in time order, and a clock that moves forward in small random steps."""

    def __init__(self, rng: random.Random, start: float = BASE_TIME):
        self.rng = rng
        self.now = start
        self.frames: list[tuple[float, bytes]] = []

    def tick(self, low: float = 0.0002, high: float = 0.002) -> float:
        self.now += self.rng.uniform(low, high)
        return self.now

    def add(self, frame: bytes, ts: float | None = None) -> None:
        self.frames.append((self.tick() if ts is None else ts, frame))

    def write(self, path) -> None:
        write_pcap(path, self.frames)


def write_pcap(path, frames, linktype: int = 1) -> None:
    """A classic little-endian microsecond pcap file."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, frame in frames:
            sec = int(ts)
            out.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)) % 1_000_000, len(frame), len(frame)))
            out.write(frame)


class Endpoint:
    def __init__(self, ip: str, mac: str):
        self.ip = ip
        self.mac = mac


def _l2(src: Endpoint, dst: Endpoint) -> Ether:
    same = ipaddress.ip_network(f"{src.ip}/24", strict=False) == ipaddress.ip_network(f"{dst.ip}/24", strict=False)
    return Ether(src=src.mac, dst=dst.mac if same else GATEWAY_MAC)


class TcpSession:
    """One TCP connection with real sequence numbers; `send()` segments at the MSS and the peer ACKs."""

    def __init__(self, cap: Capture, client: Endpoint, server: Endpoint, dport: int, sport: int | None = None):
        self.cap = cap
        self.client = client
        self.server = server
        self.dport = dport
        self.sport = sport or cap.rng.randint(49152, 65000)
        self.seq = {True: cap.rng.getrandbits(32), False: cap.rng.getrandbits(32)}  # True: client side
        self.ttl = {True: 128, False: 128}

    def _frame(self, from_client: bool, flags: str, payload: bytes = b"") -> bytes:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        tcp = TCP(sport=sport, dport=dport, flags=flags, seq=self.seq[from_client],
                  ack=self.seq[not from_client] if "A" in flags else 0, window=64240)
        ip = IP(src=src.ip, dst=dst.ip, ttl=self.ttl[from_client], id=self.cap.rng.getrandbits(16))
        packet = _l2(src, dst) / ip / tcp
        if payload:
            packet = packet / Raw(load=payload)
        return bytes(packet)

    def handshake(self) -> TcpSession:
        self.cap.add(self._frame(True, "S"))
        self.seq[True] = (self.seq[True] + 1) & 0xFFFFFFFF
        self.cap.add(self._frame(False, "SA"))
        self.seq[False] = (self.seq[False] + 1) & 0xFFFFFFFF
        self.cap.add(self._frame(True, "A"))
        return self

    def send(self, from_client: bool, payload: bytes) -> None:
        for at in range(0, len(payload), MSS):
            chunk = payload[at:at + MSS]
            last = at + MSS >= len(payload)
            self.cap.add(self._frame(from_client, "PA" if last else "A", chunk))
            self.seq[from_client] = (self.seq[from_client] + len(chunk)) & 0xFFFFFFFF
            if last or (at // MSS) % 2:
                self.cap.add(self._frame(not from_client, "A"))

    def request(self, request: bytes, response: bytes | None = None) -> None:
        self.send(True, request)
        if response is not None:
            self.send(False, response)

    def close(self) -> None:
        self.cap.add(self._frame(True, "FA"))
        self.seq[True] = (self.seq[True] + 1) & 0xFFFFFFFF
        self.cap.add(self._frame(False, "FA"))
        self.seq[False] = (self.seq[False] + 1) & 0xFFFFFFFF
        self.cap.add(self._frame(True, "A"))


def syn_probe(cap: Capture, src: Endpoint, dst: Endpoint, dport: int, alive: bool) -> None:
    """A scanner's SYN; a live host answers SYN/ACK and the scanner resets, a dead address stays silent."""
    sport = cap.rng.randint(1024, 65000)
    seq = cap.rng.getrandbits(32)
    cap.add(bytes(_l2(src, dst) / IP(src=src.ip, dst=dst.ip, ttl=128) / TCP(sport=sport, dport=dport, flags="S",
                                                                             seq=seq, window=8192)))
    if alive:
        cap.add(bytes(_l2(dst, src) / IP(src=dst.ip, dst=src.ip, ttl=128)
                      / TCP(sport=dport, dport=sport, flags="SA", seq=cap.rng.getrandbits(32), ack=seq + 1)))
        cap.add(bytes(_l2(src, dst) / IP(src=src.ip, dst=dst.ip, ttl=128)
                      / TCP(sport=sport, dport=dport, flags="R", seq=seq + 1)))


def dns_exchange(cap: Capture, client: Endpoint, resolver: Endpoint, name: str, answer: str | None) -> None:
    rng = cap.rng
    ident = rng.getrandbits(16)
    sport = rng.randint(49152, 65000)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\x00"
    question = qname + struct.pack(">HH", 1, 1)
    query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question
    cap.add(bytes(_l2(client, resolver) / IP(src=client.ip, dst=resolver.ip) / UDP(sport=sport, dport=53)
                  / Raw(load=query)))
    if answer:
        reply = (struct.pack(">HHHHHH", ident, 0x8180, 1, 1, 0, 0) + question
                 + struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4) + ipaddress.ip_address(answer).packed)
    else:  # NXDOMAIN
        reply = struct.pack(">HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question
    cap.add(bytes(_l2(resolver, client) / IP(src=resolver.ip, dst=client.ip) / UDP(sport=53, dport=sport)
                  / Raw(load=reply)), ts=cap.tick(0.001, 0.02))


# -- SMB message builders ---------------------------------------------------------------------------------
def nbss(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(3, "big") + message


def smb1(command: int, words: bytes = b"", data: bytes = b"", *, status: int = 0, reply: bool = False,
         flags2: int = 0xC007, pid: int = 0xFEFF, tid: int = 0, uid: int = 0, mid: int = 0) -> bytes:
    flags = 0x18 | (0x80 if reply else 0)
    header = struct.pack("<4sBIBHH8sHHHHH", b"\xffSMB", command, status, flags, flags2, 0, b"\x00" * 8, 0, tid,
                         pid & 0xFFFF, uid, mid)
    return nbss(header + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data)


def smb1_negotiate(dialects=(b"NT LM 0.12",), **kw) -> bytes:
    return smb1(NEGOTIATE, data=b"".join(b"\x02" + d + b"\x00" for d in dialects), **kw)


def smb1_negotiate_response(index: int = 0, **kw) -> bytes:
    """The server picks dialect `index` of the request (NT LM 0.12 style answer)."""
    words = struct.pack("<HBHHIIIIQhB", index, 3, 50, 1, 16644, 65536, 0, 0x8000F3FD, 0, -480, 0)
    return smb1(NEGOTIATE, words, b"WORKGROUP\x00", reply=True, **kw)


def smb1_session_setup(**kw) -> bytes:
    words = struct.pack("<BBHHHHIHHII", 0xFF, 0, 0, 4356, 10, 0, 0, 0, 0, 0, 0x40)
    return smb1(SESSION_SETUP_ANDX, words, b"\x00\x00Windows 2000 2195\x00Windows 2000 5.0\x00", **kw)


def smb1_session_setup_response(**kw) -> bytes:
    return smb1(SESSION_SETUP_ANDX, struct.pack("<BBHH", 0xFF, 0, 0, 0),
                b"Windows 7 Professional 7601 Service Pack 1\x00Windows 7 Professional 6.1\x00\x00", reply=True, **kw)


def smb1_tree_connect(path: str, service: bytes = b"?????", **kw) -> bytes:
    return smb1(TREE_CONNECT_ANDX, struct.pack("<BBHHH", 0xFF, 0, 0, 0, 1),
                b"\x00" + path.encode("utf-16-le") + b"\x00\x00" + service + b"\x00", **kw)  # flags2: unicode


def smb1_tree_connect_response(service: bytes = b"IPC", **kw) -> bytes:
    return smb1(TREE_CONNECT_ANDX, struct.pack("<BBHH", 0xFF, 0, 0, 1), service + b"\x00", reply=True, **kw)


def smb1_transaction(setup: tuple[int, ...], name: bytes, params: bytes = b"", data: bytes = b"",
                     total_data: int | None = None, **kw) -> bytes:
    """A TRANSACTION request (named pipe / mailslot operations)."""
    words_len = 2 * (14 + len(setup))
    offset = 32 + 1 + words_len + 2 + len(name)
    words = struct.pack("<HHHHBBHIHHHHHBB", len(params), len(data) if total_data is None else total_data, 0xFFFF,
                        0xFFFF, 0, 0, 0, 0, 0, len(params), offset, len(data), offset + len(params), len(setup), 0)
    words += struct.pack(f"<{len(setup)}H", *setup)
    return smb1(TRANSACTION, words, name + params + data, **kw)


def smb1_trans2(subcommand: int, params: bytes, data: bytes = b"", timeout: int = 0, total_data: int | None = None,
                **kw) -> bytes:
    offset = 32 + 1 + 30 + 2 + 3  # header, word count, 15 words, byte count, 3 bytes padding
    words = struct.pack("<HHHHBBHIHHHHHBBH", len(params), len(data) if total_data is None else total_data, 1024,
                        4096, 0, 0, 0, timeout, 0, len(params), offset, len(data), offset + len(params), 1, 0,
                        subcommand)
    return smb1(TRANSACTION2, words, b"\x00" * 3 + params + data, **kw)


def smb1_trans2_secondary(data: bytes, total_data: int, displacement: int, **kw) -> bytes:
    offset = 32 + 1 + 18 + 2 + 1
    words = struct.pack("<HHHHHHHHH", 0, total_data & 0xFFFF, 0, offset, 0, len(data), offset, displacement & 0xFFFF, 0)
    return smb1(TRANSACTION2_SECONDARY, words, b"\x00" + data, **kw)


def smb1_nt_transact(function: int, params: bytes, data: bytes, total_data: int, **kw) -> bytes:
    offset = 32 + 1 + 40 + 2 + 1
    words = struct.pack("<BHIIIIIIIIBH", 1, 0, len(params), total_data, len(params), 0, len(params), offset,
                        len(data), offset + len(params), 1, function) + b"\x00\x00"
    return smb1(NT_TRANSACT, words, b"\x00" + params + data, **kw)


def smb1_transaction_secondary(data: bytes, total_data: int, displacement: int, **kw) -> bytes:
    """A TRANSACTION_SECONDARY request carrying more data of a TRANSACTION."""
    offset = 32 + 1 + 16 + 2
    words = struct.pack("<HHHHHHHH", 0, total_data, 0, offset, 0, len(data), offset, displacement)
    return smb1(TRANSACTION_SECONDARY, words, data, **kw)


def smb1_nt_transact_secondary(data: bytes, total_data: int, displacement: int, **kw) -> bytes:
    """An NT_TRANSACT_SECONDARY request carrying more data of an NT_TRANSACT."""
    offset = 32 + 1 + 36 + 2 + 1
    words = struct.pack("<3sIIIIIIIIB", b"\x00" * 3, 0, total_data, 0, 0, 0, len(data), offset, displacement, 0)
    return smb1(NT_TRANSACT_SECONDARY, words, b"\x00" + data, **kw)


def smb1_transaction_response(command: int, params: bytes = b"", data: bytes = b"", **kw) -> bytes:
    """The final response to a TRANSACTION or TRANSACTION2 (an interim response is `smb1(command, reply=True)`)."""
    offset = 32 + 1 + 20 + 2 + 1
    words = struct.pack("<HHHHHHHHHBB", len(params), len(data), 0, len(params), offset, 0, len(data),
                        offset + len(params), 0, 0, 0)
    return smb1(command, words, b"\x00" + params + data, reply=True, **kw)


def smb1_nt_transact_response(params: bytes = b"", data: bytes = b"", **kw) -> bytes:
    """The final response to an NT_TRANSACT."""
    offset = 32 + 1 + 36 + 2 + 1
    words = struct.pack("<3sIIIIIIIIB", b"\x00" * 3, len(params), len(data), len(params), offset, 0, len(data),
                        offset + len(params), 0, 0)
    return smb1(NT_TRANSACT, words, b"\x00" + params + data, reply=True, **kw)


def smb1_write_andx(fid: int, offset: int, data: bytes, **kw) -> bytes:
    """A WRITE_ANDX request (14 words: 64-bit offset) writing `data` (at most 65534 bytes) at `offset` of `fid`."""
    data_offset = 32 + 1 + 28 + 2 + 1
    words = struct.pack("<BBHHIIHHHHHI", 0xFF, 0, 0, fid, offset & 0xFFFFFFFF, 0, 0, 0, 0, len(data), data_offset,
                        offset >> 32)
    return smb1(WRITE_ANDX, words, b"\x00" + data, **kw)


def smb1_write_andx_response(count: int, **kw) -> bytes:
    return smb1(WRITE_ANDX, struct.pack("<BBHHHHH", 0xFF, 0, 0, count & 0xFFFF, 0xFFFF, count >> 16, 0), reply=True,
                **kw)


def smb2(command: int, body: bytes, *, reply: bool = False, status: int = 0, message_id: int = 0, tree_id: int = 0,
         session_id: int = 0) -> bytes:
    header = struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, 1, status, command, 1, 1 if reply else 0, 0,
                         message_id, 0xFEFF, tree_id, session_id, b"\x00" * 16)
    return nbss(header + body)


def smb2_negotiate(dialects=(0x0202, 0x0210, 0x0300, 0x0302, 0x0311), **kw) -> bytes:
    body = struct.pack("<HHHHI16sQ", 36, len(dialects), 1, 0, 0x7F, b"\x11" * 16, 0)
    return smb2(0, body + struct.pack(f"<{len(dialects)}H", *dialects), **kw)


def smb2_negotiate_response(dialect: int, **kw) -> bytes:
    body = struct.pack("<HHHH16sIIIIQQHHI", 65, 1, dialect, 0, b"\x22" * 16, 0x2F, 8388608, 8388608, 8388608,
                       0, 0, 128, 0, 0)
    return smb2(0, body, reply=True, **kw)


# -- scenario building blocks -----------------------------------------------------------------------------
def _endpoint(host) -> Endpoint:
    return Endpoint(host.ip, host.mac)


def _plan(topology, rng: random.Random):
    """Hosts grouped by agency /24, and a resolver."""
    by_net: dict[str, list] = {}
    for host in topology.hosts:
        by_net.setdefault(str(ipaddress.ip_network(f"{host.ip}/24", strict=False)), []).append(host)
    nets = sorted(n for n, hosts in by_net.items() if len(hosts) >= 3)
    resolver = Endpoint("10.0.0.53", "00:00:5e:00:01:35")
    return by_net, nets, resolver


def smb2_file_session(cap: Capture, client: Endpoint, server: Endpoint, rng: random.Random, read_size: int) -> None:
    """A Windows client mapping a share and reading a file (SMB1 negotiate upgraded to SMB 3.1.1)."""
    session = TcpSession(cap, client, server, 445).handshake()
    session.request(smb1_negotiate((b"NT LM 0.12", b"SMB 2.002", b"SMB 2.???")),
                    smb2_negotiate_response(0x02FF))
    session.request(smb2_negotiate(message_id=1), smb2_negotiate_response(0x0311, message_id=1))
    session_id = rng.getrandbits(48)
    session.request(smb2(1, struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, 0, 0) + b"N" * 64, message_id=2),
                    smb2(1, struct.pack("<HHHH", 9, 0, 72, 0), reply=True, status=STATUS_MORE_PROCESSING,
                         message_id=2, session_id=session_id))
    share = f"\\\\{server.ip}\\share".encode("utf-16-le")
    session.request(smb2(3, struct.pack("<HHHH", 9, 0, 72, len(share)) + share, message_id=3, session_id=session_id),
                    smb2(3, struct.pack("<HBBIII", 16, 1, 0, 0, 0, 0x1F01FF), reply=True, message_id=3,
                         session_id=session_id, tree_id=1))
    session.request(smb2(8, struct.pack("<HBBIQQIIHH", 49, 0x50, 0, read_size, 0, 1, 0, 0, 0, 0) + b"\x00",
                         message_id=4, session_id=session_id, tree_id=1),
                    smb2(8, struct.pack("<HBBII", 17, 80, 0, read_size, 0) + rng.randbytes(64) * (read_size // 64),
                         reply=True, message_id=4, session_id=session_id, tree_id=1))
    session.close()


def web_session(cap: Capture, client: Endpoint, server: Endpoint, rng: random.Random, tls: bool) -> None:
    session = TcpSession(cap, client, server, 443 if tls else 80).handshake()
    if tls:
        session.request(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + rng.randbytes(500),
                        b"\x16\x03\x03\x10\x00" + rng.randbytes(4096))
        session.request(b"\x17\x03\x03\x01\x00" + rng.randbytes(256), b"\x17\x03\x03\x40\x00" + rng.randbytes(9000))
    else:
        session.request(b"GET /portal/index.html HTTP/1.1\r\nHost: oa.gov.lab\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6000\r\n\r\n"
                        + b"<p>OneNet</p>" * 461 + b"<p>1</p>")
    session.close()


def eternalblue_attack(cap: Capture, attacker: Endpoint, victim: Endpoint, rng: random.Random) -> None:
    """FuzzBunch-style EternalBlue against an unpatched Windows 7, then the DoublePulsar ping."""
    pid, uid, tid = 0xFEFF, 2048, 2048
    session = TcpSession(cap, attacker, victim, 445).handshake()
    session.request(smb1_negotiate((b"PC NETWORK PROGRAM 1.0", b"LANMAN1.0", b"Windows for Workgroups 3.1a",
                                    b"LM1.2X002", b"LANMAN2.1", b"NT LM 0.12")), smb1_negotiate_response(5))
    session.request(smb1_session_setup(), smb1_session_setup_response(uid=uid))
    session.request(smb1_tree_connect(f"\\\\{victim.ip}\\IPC$", uid=uid, mid=64),
                    smb1_tree_connect_response(uid=uid, tid=tid, mid=64))
    # The MS17-010 probe: PeekNamedPipe on FID 0; an unpatched server runs out of "resources".
    session.request(smb1_transaction((0x23, 0), b"\\PIPE\\\x00", uid=uid, tid=tid, mid=65),
                    smb1(TRANSACTION, reply=True, status=STATUS_INSUFF_SERVER_RESOURCES, uid=uid, tid=tid, mid=65))
    # The exploit: NT_TRANSACT with a huge total data count, fed by TRANS2_SECONDARY in the same transaction.
    total = 0x103D0
    session.request(smb1_nt_transact(0, b"\x00" * 30, b"\x00" * 976, total, uid=uid, tid=tid, pid=pid, mid=66),
                    smb1(NT_TRANSACT, reply=True, uid=uid, tid=tid, pid=pid, mid=66))
    displacement = 976
    for _ in range(6):
        chunk = rng.randbytes(4096)
        session.send(True, smb1_trans2_secondary(chunk, total, displacement, uid=uid, tid=tid, pid=pid, mid=66))
        displacement += len(chunk)
    # groom connections (SMB2-looking buffers) and the final fragment
    for _ in range(3):
        groom = TcpSession(cap, attacker, victim, 445).handshake()
        groom.send(True, b"\x00\x00\xff\xf7\xfeSMB" + b"\x00" * 124)
        groom.close()
    session.send(True, smb1_trans2_secondary(rng.randbytes(2920), total, displacement, uid=uid, tid=tid, pid=pid,
                                             mid=66))
    session.close()
    # DoublePulsar ping: Trans2 SESSION_SETUP, timeout bytes summing to 0x23; the implant replies MID + 16.
    implant = TcpSession(cap, attacker, victim, 445).handshake()
    implant.request(smb1_negotiate(), smb1_negotiate_response())
    implant.request(smb1_session_setup(), smb1_session_setup_response(uid=uid))
    implant.request(smb1_tree_connect(f"\\\\{victim.ip}\\IPC$", uid=uid, mid=64),
                    smb1_tree_connect_response(uid=uid, tid=tid, mid=64))
    high = [rng.getrandbits(8) for _ in range(3)]
    timeout = int.from_bytes(bytes([(0x23 - sum(high)) & 0xFF] + high), "little")
    implant.request(smb1_trans2(0x000E, b"\x00" * 12, timeout=timeout, uid=uid, tid=tid, mid=65),
                    smb1(TRANSACTION2, reply=True, status=STATUS_NOT_IMPLEMENTED, uid=uid, tid=tid, mid=81))
    implant.close()


def sweep_445(cap: Capture, scanner: Endpoint, net: str, live: dict[str, object], rng: random.Random,
              port: int = 445) -> None:
    """Probe every address of a /24 on one port (WannaCry scans its own subnet first)."""
    for address in ipaddress.ip_network(net).hosts():
        ip = str(address)
        if ip == scanner.ip:
            continue
        host = live.get(ip)
        target = _endpoint(host) if host else Endpoint(ip, GATEWAY_MAC)
        syn_probe(cap, scanner, target, port, alive=host is not None)


def smb1_benign(cap: Capture, client: Endpoint, server: Endpoint, rng: random.Random) -> None:
    """An old SMB1 client: NetShareEnum over \\PIPE\\LANMAN (TRANSACTION), PeekNamedPipe on a real FID, and a
    TRANS2 FIND_FIRST2 whose data continues in a TRANS2_SECONDARY (all legitimate)."""
    uid, tid = 100, 1
    session = TcpSession(cap, client, server, 445).handshake()
    session.request(smb1_negotiate((b"NT LM 0.12",)), smb1_negotiate_response())
    session.request(smb1_session_setup(), smb1_session_setup_response(uid=uid))
    session.request(smb1_tree_connect(f"\\\\{server.ip}\\IPC$", uid=uid, mid=2),
                    smb1_tree_connect_response(uid=uid, tid=tid, mid=2))
    session.request(smb1_transaction((), b"\\PIPE\\LANMAN\x00", params=b"\x00\x00WrLeh\x00B13BWz\x00\x01\x00\xff\xff",
                                     uid=uid, tid=tid, mid=3),
                    smb1(TRANSACTION, struct.pack("<HHHHHHHHHBB", 8, 40, 0, 8, 56, 0, 40, 64, 0, 0, 0),
                         b"\x00" * 48, reply=True, uid=uid, tid=tid, mid=3))
    session.request(smb1_transaction((0x23, 0x4001), b"\\PIPE\\\x00", uid=uid, tid=tid, mid=4),
                    smb1(TRANSACTION, reply=True, uid=uid, tid=tid, mid=4))
    session.request(smb1_tree_connect(f"\\\\{server.ip}\\share", b"A:", uid=uid, mid=5),
                    smb1_tree_connect_response(b"A:", uid=uid, tid=tid + 1, mid=5))
    data = rng.randbytes(600)
    session.send(True, smb1_trans2(0x0001, b"\x16\x00\x00\x04\x06\x00\x04\x01\x00\x00\x00\x00\\*\x00",
                                   data[:300], total_data=600, uid=uid, tid=tid + 1, mid=6))
    session.request(smb1_trans2_secondary(data[300:], 600, 300, uid=uid, tid=tid + 1, mid=6),
                    smb1(TRANSACTION2, reply=True, uid=uid, tid=tid + 1, mid=6))
    session.close()


# -- scenarios --------------------------------------------------------------------------------------------
def _office(cap, topology, rng, clients: int = 8, rounds: int = 2, legacy_smb1: bool = False) -> None:
    """Office traffic: DNS, web (HTTP and TLS), SMB 3.1.1 file reads; with `legacy_smb1`, a sixth of the
    clients are old machines that also browse shares over SMB1."""
    by_net, nets, resolver = _plan(topology, rng)
    servers = [_endpoint(h) for h in by_net[nets[0]][:2]]  # the city's file servers
    web = Endpoint("10.0.1.80", "00:00:5e:00:01:50")
    pool = [h for net in nets[1:] for h in by_net[net]]
    chosen = [_endpoint(h) for h in rng.sample(pool, min(clients, len(pool)))]
    for _ in range(rounds):
        for index, client in enumerate(chosen):
            dns_exchange(cap, client, resolver, rng.choice(["oa.gov.lab", "mail.gov.lab", "portal.gov.lab"]),
                         web.ip)
            web_session(cap, client, web, rng, tls=bool(index % 2))
            smb2_file_session(cap, client, servers[index % 2], rng, read_size=rng.choice([8192, 65536]))
            if legacy_smb1 and index % 6 == 0:
                smb1_benign(cap, client, servers[index % 2], rng)
            cap.tick(0.01, 0.2)


def write_scenario(scenario: str, out_path, seed: int = 1, topology=None) -> dict:
    """Write one scenario's capture; returns what it holds (who attacked whom) for tests and demos."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    topology = topology or generate("demo", seed)
    rng = random.Random(f"traffic:{scenario}:{seed}")
    cap = Capture(rng)
    by_net, nets, resolver = _plan(topology, rng)
    live = {h.ip: h for h in topology.hosts}
    info: dict = {"scenario": scenario}
    if scenario == "office":
        _office(cap, topology, rng)
    elif scenario == "eternalblue":
        net = rng.choice(nets)
        attacker, victim = (_endpoint(h) for h in rng.sample(by_net[net], 2))
        eternalblue_attack(cap, attacker, victim, rng)
        info.update(attacker=attacker.ip, victim=victim.ip)
    elif scenario in ("scan", "portscan"):
        net = rng.choice(nets)
        scanner = _endpoint(rng.choice(by_net[net]))
        sweep_445(cap, scanner, net, live, rng, port=445 if scenario == "scan" else rng.choice([80, 3389]))
        info.update(scanner=scanner.ip, net=net)
    elif scenario == "smb1-benign":
        net = rng.choice(nets)
        client, server = (_endpoint(h) for h in rng.sample(by_net[net], 2))
        smb1_benign(cap, client, server, rng)
        info.update(client=client.ip, server=server.ip)
    else:  # wannacry
        first_net, second_net = rng.sample(nets, 2)
        patient_zero = _endpoint(rng.choice(by_net[first_net]))
        dns_exchange(cap, patient_zero, resolver, KILLSWITCH_DOMAIN, None)
        sweep_445(cap, patient_zero, first_net, live, rng)
        victim = _endpoint(rng.choice([h for h in by_net[first_net] if h.ip != patient_zero.ip]))
        eternalblue_attack(cap, patient_zero, victim, rng)
        cap.tick(1, 3)
        dns_exchange(cap, victim, resolver, "www." + KILLSWITCH_DOMAIN, None)
        sweep_445(cap, victim, second_net, live, rng)
        info.update(patient_zero=patient_zero.ip, victim=victim.ip, nets=[first_net, second_net])
    cap.write(out_path)
    info["packets"] = len(cap.frames)
    return info


# -- big captures for benchmarks --------------------------------------------------------------------------
def _fold(value: int) -> int:
    while value >> 16:
        value = (value & 0xFFFF) + (value >> 16)
    return value


def _delta(old: bytes, new: bytes) -> int:
    """The ones'-complement adjustment for replacing `old` by `new` in a checksummed header (RFC 1624)."""
    total = 0
    for i in range(0, len(old), 2):
        total += (~(old[i] << 8 | old[i + 1]) & 0xFFFF) + (new[i] << 8 | new[i + 1])
    return _fold(total)


def _patch_checksum(frame: bytearray, at: int, delta: int) -> None:
    value = frame[at] << 8 | frame[at + 1]
    value = ~_fold((~value & 0xFFFF) + delta) & 0xFFFF
    frame[at] = value >> 8
    frame[at + 1] = value & 0xFF


def big_capture(out_path, target_bytes: int, seed: int = 1, topology=None) -> dict:
    """Write a large mixed capture fast: an attack prologue, then office traffic repeated with each repeat's
    clients moved to other lab hosts and timestamps shifted, until the file reaches `target_bytes`."""
    topology = topology or generate("demo", seed)
    rng = random.Random(f"big:{seed}")
    prologue = Capture(rng)
    by_net, nets, resolver = _plan(topology, rng)
    eternalblue_attack(prologue, *(_endpoint(h) for h in rng.sample(by_net[nets[-1]], 2)), rng)
    template = Capture(rng, start=prologue.now + 1)
    _office(template, topology, rng, clients=12, rounds=3, legacy_smb1=True)
    servers = {h.ip for h in by_net[nets[0]][:2]}
    template_clients = sorted({ipaddress.ip_address(f[26:30]).exploded for _, f in template.frames
                               if len(f) > 34 and f[12:14] == b"\x08\x00"} - servers - {resolver.ip, "10.0.1.80"})
    pool = [h.ip for h in topology.hosts if h.ip not in servers]
    client_bytes = [ipaddress.ip_address(ip).packed for ip in template_clients]
    # where each frame holds a client address: (frame index, byte offset, original address, l4 checksum offset)
    slots = []
    for index, (_, frame) in enumerate(template.frames):
        if frame[12:14] != b"\x08\x00":
            continue
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[23]
        l4sum = 14 + ihl + (16 if proto == 6 else 6)
        for offset in (26, 30):
            if frame[offset:offset + 4] in client_bytes:
                slots.append((index, offset, frame[offset:offset + 4], l4sum))
    patched = {slot[0] for slot in slots}
    span = template.frames[-1][0] - template.frames[0][0] + 0.5
    header = struct.Struct("<IIII")
    written = 0
    packets = 0
    with open(out_path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, frame in prologue.frames:
            out.write(header.pack(int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame)
            written += 16 + len(frame)
            packets += 1
        repeat = 0
        while written < target_bytes:
            mapping = {old: ipaddress.ip_address(new).packed
                       for old, new in zip(client_bytes, rng.sample(pool, len(client_bytes)), strict=True)}
            deltas = {old: _delta(old, new) for old, new in mapping.items()}
            frames = [bytearray(f) if i in patched else f for i, (_, f) in enumerate(template.frames)]
            for index, offset, old, l4sum in slots:
                frame = frames[index]
                frame[offset:offset + 4] = mapping[old]
                _patch_checksum(frame, 24, deltas[old])
                if frame[l4sum] or frame[l4sum + 1] or frame[23] == 6:
                    _patch_checksum(frame, l4sum, deltas[old])
            shift = repeat * span
            chunk = []
            for (ts, _), frame in zip(template.frames, frames, strict=True):
                t = ts + shift
                chunk.append(header.pack(int(t), int((t % 1) * 1e6), len(frame), len(frame)))
                chunk.append(frame)
            blob = b"".join(chunk)
            out.write(blob)
            written += len(blob)
            packets += len(frames)
            repeat += 1
    return {"path": str(out_path), "bytes": written + 24, "packets": packets, "repeats": repeat}
