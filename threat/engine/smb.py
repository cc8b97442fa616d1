"""Streaming SMB analyser: TCP reassembly per direction, NetBIOS session framing, SMB1 and SMB2/3 headers.

Only what the detectors need is kept: the first `MESSAGE_CAP` bytes of each SMB message (headers, words,
transaction parameters and the start of the data), the rest of a message is skipped by counting bytes,
so a multi-gigabyte file copy costs a few integer operations per segment. A connection that has spoken
SMB2/3 cannot go back to SMB1 (the server would drop it), so after its negotiation its payload is no
longer parsed at all.

Each direction counts its TCP segments, so a message knows whether it began in the very segment that ended
the message before it (`Smb1Message.adjacent`): EternalChampion's race depends on exactly that.

Reassembly is "good enough" by design: in-order data is appended, retransmissions are trimmed, a small
number of out-of-order segments wait for the gap to fill; if it does not, or a capture starts mid-stream,
the stream re-synchronises on the next `<NBSS header>\\xffSMB` / `\\xfeSMB` boundary found in a segment.
"""

from __future__ import annotations

import struct

from .packets import FIN, RST, SYN

MESSAGE_CAP = 4096
MAX_OUT_OF_ORDER = 32
MAX_CONNECTIONS = 10_000
PENDING_BUDGET = 16 << 20  # bytes of out-of-order segments held at once; beyond it, gaps are skipped
MAX_TRANSACTIONS = 256

SMB1_MAGIC = b"\xffSMB"
SMB2_MAGIC = b"\xfeSMB"
SMB3_TRANSFORM_MAGIC = b"\xfdSMB"
SMB_COMPRESSION_MAGIC = b"\xfcSMB"

# SMB1 commands
SMB_COM_TRANSACTION = 0x25
SMB_COM_TRANSACTION_SECONDARY = 0x26
SMB_COM_ECHO = 0x2B
SMB_COM_WRITE_ANDX = 0x2F
SMB_COM_TRANSACTION2 = 0x32
SMB_COM_TRANSACTION2_SECONDARY = 0x33
SMB_COM_NEGOTIATE = 0x72
SMB_COM_SESSION_SETUP_ANDX = 0x73
SMB_COM_TREE_CONNECT_ANDX = 0x75
SMB_COM_NT_TRANSACT = 0xA0
SMB_COM_NT_TRANSACT_SECONDARY = 0xA1

COMMAND_NAMES = {
    SMB_COM_TRANSACTION: "TRANSACTION", SMB_COM_TRANSACTION_SECONDARY: "TRANSACTION_SECONDARY",
    SMB_COM_ECHO: "ECHO", SMB_COM_WRITE_ANDX: "WRITE_ANDX", SMB_COM_TRANSACTION2: "TRANSACTION2",
    SMB_COM_TRANSACTION2_SECONDARY: "TRANSACTION2_SECONDARY", SMB_COM_NEGOTIATE: "NEGOTIATE",
    SMB_COM_SESSION_SETUP_ANDX: "SESSION_SETUP_ANDX", SMB_COM_TREE_CONNECT_ANDX: "TREE_CONNECT_ANDX",
    SMB_COM_NT_TRANSACT: "NT_TRANSACT", SMB_COM_NT_TRANSACT_SECONDARY: "NT_TRANSACT_SECONDARY",
}
# The primary command each secondary continues.
SECONDARY_OF = {
    SMB_COM_TRANSACTION_SECONDARY: SMB_COM_TRANSACTION,
    SMB_COM_TRANSACTION2_SECONDARY: SMB_COM_TRANSACTION2,
    SMB_COM_NT_TRANSACT_SECONDARY: SMB_COM_NT_TRANSACT,
}

STATUS_SUCCESS = 0x00000000
STATUS_NOT_IMPLEMENTED = 0xC0000002
STATUS_INVALID_HANDLE = 0xC0000008
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_INSUFF_SERVER_RESOURCES = 0xC0000205

SMB2_DIALECTS = {0x0202: "2.0.2", 0x0210: "2.1", 0x0222: "2.2.2", 0x0224: "2.2.4", 0x02FF: "2.???",
                 0x0300: "3.0", 0x0302: "3.0.2", 0x0310: "3.1.0", 0x0311: "3.1.1"}

_SMB1_HEADER = struct.Struct("<4sBIBHH8sHHHHH")
_TRANS_REQUEST = struct.Struct("<HHHHBBHIHHHHHBB")  # TRANSACTION and TRANSACTION2 request words
_NT_TRANS_REQUEST = struct.Struct("<BHIIIIIIIIBH")  # NT_TRANSACT request words
_SECONDARY = struct.Struct("<HHHHHHHH")  # TRANSACTION(2)_SECONDARY words
_NT_SECONDARY = struct.Struct("<3sIIIIIIIIB")  # NT_TRANSACT_SECONDARY words
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

# Direction states
_HEADER, _BODY, _RESYNC = 0, 1, 2


class Smb1Message:
    """One SMB1 message: header fields, parameter words and data bytes (possibly cut at MESSAGE_CAP)."""

    __slots__ = ("command", "status", "flags", "flags2", "pid", "tid", "uid", "mid", "reply", "words",
                 "data", "raw", "length", "ts", "primary", "adjacent")

    def __init__(self, raw: bytes, length: int, ts: float, adjacent: bool = False):
        (_magic, self.command, self.status, self.flags, self.flags2, pid_high, _signature, _reserved,
         self.tid, pid_low, self.uid, self.mid) = _SMB1_HEADER.unpack_from(raw, 0)
        self.pid = pid_high << 16 | pid_low
        self.reply = bool(self.flags & 0x80)
        self.raw = raw
        self.length = length
        self.ts = ts
        self.primary: int | None = None  # for a secondary request: the primary command it continues
        self.adjacent = adjacent  # began in the TCP segment that ended the previous message of its direction
        if len(raw) > 32:
            word_count = raw[32]
            self.words = raw[33:33 + 2 * word_count]
            at = 33 + 2 * word_count
            byte_count = _U16.unpack_from(raw, at)[0] if at + 2 <= len(raw) else 0
            self.data = raw[at + 2:at + 2 + byte_count]
        else:
            self.words = b""
            self.data = b""

    @property
    def key(self) -> tuple[int, int, int, int]:
        """The transaction identity a server uses to match secondaries and replies: (pid, mid, tid, uid)."""
        return self.pid, self.mid, self.tid, self.uid

    @property
    def name(self) -> str:
        return COMMAND_NAMES.get(self.command, f"0x{self.command:02x}")

    def transaction(self) -> dict | None:
        """Parameter words of a TRANSACTION / TRANSACTION2 / NT_TRANSACT request, or of a secondary."""
        words = self.words
        try:
            if self.command in (SMB_COM_TRANSACTION, SMB_COM_TRANSACTION2) and len(words) >= 28:
                (total_param, total_data, _max_param, _max_data, _max_setup, _r1, flags, timeout, _r2,
                 param_count, param_offset, data_count, data_offset, setup_count,
                 _r3) = _TRANS_REQUEST.unpack_from(words)
                setup = struct.unpack_from(f"<{min(setup_count, (len(words) - 28) // 2)}H", words, 28)
                return dict(total_param=total_param, total_data=total_data, param_count=param_count,
                            param_offset=param_offset, data_count=data_count, data_offset=data_offset,
                            flags=flags, timeout=timeout, setup=setup)
            if self.command == SMB_COM_NT_TRANSACT and len(words) >= 38:
                (_max_setup, _r, total_param, total_data, _max_param, _max_data, param_count, param_offset,
                 data_count, data_offset, setup_count, function) = _NT_TRANS_REQUEST.unpack_from(words)
                return dict(total_param=total_param, total_data=total_data, param_count=param_count,
                            param_offset=param_offset, data_count=data_count, data_offset=data_offset,
                            function=function, setup_count=setup_count, timeout=0, setup=())
            if self.command in (SMB_COM_TRANSACTION_SECONDARY, SMB_COM_TRANSACTION2_SECONDARY) and len(words) >= 16:
                (total_param, total_data, param_count, param_offset, param_disp, data_count, data_offset,
                 data_disp) = _SECONDARY.unpack_from(words)
                return dict(total_param=total_param, total_data=total_data, param_count=param_count,
                            param_offset=param_offset, param_displacement=param_disp, data_count=data_count,
                            data_offset=data_offset, data_displacement=data_disp)
            if self.command == SMB_COM_NT_TRANSACT_SECONDARY and len(words) >= 36:
                (_r, total_param, total_data, param_count, param_offset, param_disp, data_count, data_offset,
                 data_disp, _r2) = _NT_SECONDARY.unpack_from(words)
                return dict(total_param=total_param, total_data=total_data, param_count=param_count,
                            param_offset=param_offset, param_displacement=param_disp, data_count=data_count,
                            data_offset=data_offset, data_displacement=data_disp)
        except struct.error:
            return None
        return None


class Transaction:
    """An SMB1 transaction a client opened: its primary command, its subcommand (the first setup word, or the
    NT_TRANSACT function) and whether it is still in progress (the server has not given its final response)."""

    __slots__ = ("command", "function", "in_progress")

    def __init__(self, command: int, function: int | None, in_progress: bool = True):
        self.command = command
        self.function = function
        self.in_progress = in_progress


class Smb2Message:
    """The parts of an SMB2/3 header (and negotiate body) the analyser keeps."""

    __slots__ = ("command", "status", "reply", "message_id", "dialect", "dialects", "ts")

    def __init__(self, raw: bytes, ts: float):
        self.status = _U32.unpack_from(raw, 8)[0]
        self.command = _U16.unpack_from(raw, 12)[0]
        flags = _U32.unpack_from(raw, 16)[0]
        self.reply = bool(flags & 1)
        self.message_id = struct.unpack_from("<Q", raw, 24)[0]
        self.dialect = None
        self.dialects: tuple[int, ...] = ()
        self.ts = ts
        if self.command == 0 and len(raw) >= 70:
            if self.reply:
                self.dialect = _U16.unpack_from(raw, 68)[0]
            else:
                count = _U16.unpack_from(raw, 66)[0]
                at = 64 + 36
                count = max(0, min(count, (len(raw) - at) // 2))
                self.dialects = struct.unpack_from(f"<{count}H", raw, at)


class Direction:
    """Reassembly state of one direction of a TCP connection."""

    __slots__ = ("next_seq", "state", "header", "body", "length", "want", "skip", "pending", "segment", "ended",
                 "adjacent")

    def __init__(self):
        self.next_seq: int | None = None
        self.state = _RESYNC
        self.header = b""
        self.body = bytearray()
        self.length = 0
        self.want = 0
        self.skip = 0
        self.pending: dict[int, bytes] = {}
        self.segment = 0  # in-order segments consumed
        self.ended = 0  # the segment in which the last message ended (0: unknown)
        self.adjacent = False  # the message being read began in the segment that ended the one before


class Connection:
    """One TCP connection to an SMB port, with the SMB state the detectors keep on it."""

    __slots__ = ("client", "server", "sport", "dport", "up", "down", "first_seen", "last_seen", "version",
                 "dialect", "dialects", "done", "transactions", "previous_primary", "requests", "trees", "marks",
                 "closed")

    def __init__(self, client: bytes, server: bytes, sport: int, dport: int, ts: float):
        self.client = client
        self.server = server
        self.sport = sport
        self.dport = dport
        self.up = Direction()  # client -> server
        self.down = Direction()  # server -> client
        self.first_seen = ts
        self.last_seen = ts
        self.version: int | None = None  # 1, 2 or 3
        self.dialect: str | None = None
        self.dialects: list[str] = []  # dialects offered in an SMB1 NEGOTIATE request
        self.done = False  # SMB2/3 negotiated: nothing more to parse
        # SMB1 transactions opened on this connection: (pid, mid, tid, uid) -> Transaction
        self.transactions: dict[tuple, Transaction] = {}
        # the transaction the previous client request opened (None when it was not a primary)
        self.previous_primary: Transaction | None = None
        # outstanding SMB1 requests the detectors want to see answered: key -> (command, detail)
        self.requests: dict[tuple, tuple] = {}
        self.trees: dict[int, str] = {}
        self.marks: set[str] = set()  # detector flags on this connection
        self.closed = 0


def _raw_keys(conn: Connection) -> tuple[bytes, bytes]:
    ports = struct.pack(">HH", conn.sport, conn.dport)
    return conn.client + conn.server + ports, conn.server + conn.client + ports[2:] + ports[:2]


def _smb_boundary(data, start: int = 0) -> int:
    """Offset of the next NBSS header followed by an SMB magic in `data`, or -1."""
    best = -1
    for magic in (SMB1_MAGIC, SMB2_MAGIC):
        at = data.find(magic, start + 4)
        while at != -1 and data[at - 4] != 0:
            at = data.find(magic, at + 1)
        if at != -1 and (best == -1 or at - 4 < best):
            best = at - 4
    return best


class SmbAnalyser:
    """Feeds TCP segments on the SMB ports and calls `handler.smb1(conn, message)` / `handler.smb2(...)`."""

    def __init__(self, handler, message_cap: int = MESSAGE_CAP, max_connections: int = MAX_CONNECTIONS):
        self.handler = handler
        self.message_cap = message_cap
        self.max_connections = max_connections
        self.connections: dict[tuple, Connection] = {}
        # IPv4 (src, dst, sport, dport) as the 12 raw bytes of the headers, both directions, of connections
        # whose payload is no longer parsed: the scanner skips their packets without decoding them.
        self.done_keys: set[bytes] = set()
        self.pending_bytes = 0  # out-of-order segments held, all connections together

    def segment(self, ts: float, src: bytes, dst: bytes, sport: int, dport: int, seq: int, flags: int,
                payload: bytes) -> None:
        if dport == 445 or dport == 139:
            key = (src, sport, dst, dport)
            to_server = True
        else:
            key = (dst, dport, src, sport)
            to_server = False
        conn = self.connections.get(key)
        if conn is None:
            if flags & RST:
                return
            if len(self.connections) >= self.max_connections:
                # Evict the oldest tenth (dicts keep insertion order): bounded memory on endless captures.
                for old in list(self.connections)[: self.max_connections // 10]:
                    self._forget(old)
            conn = self.connections[key] = Connection(key[0], key[2], key[1], key[3], ts)
        elif ts > conn.last_seen:
            conn.last_seen = ts
        elif ts < conn.first_seen:
            conn.first_seen = ts
        direction = conn.up if to_server else conn.down
        if flags & SYN:
            direction.next_seq = (seq + 1) & 0xFFFFFFFF
            direction.state = _HEADER
            direction.header = b""
            self._drop_pending(direction)
            return
        if payload and not conn.done:
            self._data(conn, direction, to_server, seq, payload, ts)
        if flags & (RST | FIN):
            conn.closed |= 3 if flags & RST else (1 if to_server else 2)
            if conn.closed == 3:
                self._forget(key)

    def _data(self, conn: Connection, d: Direction, to_server: bool, seq: int, payload: bytes, ts: float) -> None:
        expected = d.next_seq
        if expected is None:  # first data seen in this direction: mid-stream start
            d.next_seq = (seq + len(payload)) & 0xFFFFFFFF
            d.state = _RESYNC
            self._consume(conn, d, to_server, payload, ts)
            return
        delta = (seq - expected) & 0xFFFFFFFF
        if delta == 0:
            d.next_seq = (seq + len(payload)) & 0xFFFFFFFF
            self._consume(conn, d, to_server, payload, ts)
        elif delta >= 0x80000000:  # starts before what we have: retransmission, maybe with new bytes
            overlap = 0x100000000 - delta
            if overlap >= len(payload):
                return
            d.next_seq = (seq + len(payload)) & 0xFFFFFFFF
            self._consume(conn, d, to_server, payload[overlap:], ts)
        else:  # a gap: keep the segment until the hole fills
            old = d.pending.get(seq)
            if old is not None:
                self.pending_bytes -= len(old)
            d.pending[seq] = payload
            self.pending_bytes += len(payload)
            if len(d.pending) <= MAX_OUT_OF_ORDER and self.pending_bytes <= PENDING_BUDGET:
                return
            # The hole is not going to fill: give up on it and re-synchronise after it.
            d.next_seq = min(d.pending, key=lambda s: (s - expected) & 0xFFFFFFFF)
            d.state = _RESYNC
            d.header = b""
            d.skip = 0
        if d.pending:
            while True:
                data = d.pending.pop(d.next_seq, None)
                if data is None:
                    break
                self.pending_bytes -= len(data)
                d.next_seq = (d.next_seq + len(data)) & 0xFFFFFFFF
                self._consume(conn, d, to_server, data, ts)
            for stale in [s for s in d.pending if (s - d.next_seq) & 0xFFFFFFFF >= 0x80000000]:
                self.pending_bytes -= len(d.pending.pop(stale))

    def _consume(self, conn: Connection, d: Direction, to_server: bool, data: bytes, ts: float) -> None:
        """Run the NBSS framing state machine over in-order bytes (one TCP segment's worth)."""
        d.segment += 1
        segment = d.segment
        pos = 0
        size = len(data)
        while pos < size and not conn.done:
            if d.skip:
                step = min(d.skip, size - pos)
                d.skip -= step
                pos += step
                if not d.skip:
                    d.ended = segment
                continue
            state = d.state
            if state == _HEADER:
                if not d.header:
                    d.adjacent = d.ended == segment
                need = 4 - len(d.header)
                d.header += data[pos:pos + need]
                pos += need
                if len(d.header) < 4:
                    return
                header = d.header
                d.header = b""
                kind = header[0]
                length = header[1] << 16 | header[2] << 8 | header[3]
                if kind == 0x00:
                    if length < 4:
                        d.skip = length
                        continue
                    d.length = length
                    d.want = min(length, self.message_cap)
                    d.body = bytearray()
                    d.state = _BODY
                elif kind in (0x81, 0x82, 0x83, 0x84, 0x85):  # NetBIOS session request/response/keepalive
                    d.skip = length & 0x1FFFF
                else:
                    d.state = _RESYNC
            elif state == _BODY:
                need = d.want - len(d.body)
                d.body += data[pos:pos + need]
                pos += min(need, size - pos)
                if len(d.body) < d.want:
                    return
                body = bytes(d.body)
                d.body = bytearray()
                d.state = _HEADER
                d.skip = d.length - d.want
                if not d.skip:
                    d.ended = segment
                if not self._message(conn, to_server, body, d.length, ts, d.adjacent):
                    d.state = _RESYNC
                    d.skip = 0
            else:  # _RESYNC: look for the next message boundary inside this segment
                at = _smb_boundary(data, pos)
                if at < 0:
                    return
                pos = at
                d.state = _HEADER
                d.header = b""
                d.skip = 0
                d.ended = 0  # what came before the gap is unknown

    def _done(self, conn: Connection) -> None:
        """Nothing more to parse on this connection; publish its raw 4-tuples for the scanner's fast path."""
        conn.done = True
        if len(conn.client) == 4:
            if len(self.done_keys) >= 2 * self.max_connections:
                self.done_keys.clear()
            self.done_keys.update(_raw_keys(conn))

    def _drop_pending(self, d: Direction) -> None:
        self.pending_bytes -= sum(len(data) for data in d.pending.values())
        d.pending.clear()

    def _forget(self, key: tuple) -> None:
        conn = self.connections.pop(key, None)
        if conn is not None:
            self._drop_pending(conn.up)
            self._drop_pending(conn.down)
        if conn is not None and conn.done and len(conn.client) == 4:
            for raw in _raw_keys(conn):
                self.done_keys.discard(raw)

    def _message(self, conn: Connection, to_server: bool, body: bytes, length: int, ts: float,
                 adjacent: bool) -> bool:
        magic = body[:4]
        try:
            if magic == SMB1_MAGIC:
                if len(body) < 32:
                    return True
                conn.version = conn.version or 1
                self.handler.smb1(conn, Smb1Message(body, length, ts, adjacent))
            elif magic == SMB2_MAGIC:
                if len(body) < 64:
                    return True
                message = Smb2Message(body, ts)
                if message.command == 0 and message.reply and message.dialect:
                    conn.dialect = SMB2_DIALECTS.get(message.dialect, f"0x{message.dialect:04x}")
                    conn.version = 3 if message.dialect >= 0x0300 and message.dialect != 0x02FF else 2
                elif conn.version is None or conn.version == 1:
                    conn.version = 2
                self.handler.smb2(conn, message)
                if message.command != 0 or (message.reply and message.dialect != 0x02FF):
                    self._done(conn)
            elif magic in (SMB3_TRANSFORM_MAGIC, SMB_COMPRESSION_MAGIC):
                conn.version = 3
                self._done(conn)
            else:
                return False
        except (struct.error, IndexError, ValueError):  # hostile or truncated message: skip it, keep going
            return True
        return True
