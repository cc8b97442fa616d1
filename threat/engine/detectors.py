"""One detector per alert kind (DESIGN "Alert kinds"), each built on a protocol invariant, not a byte signature.

Detectors never see raw packets: the SMB analyser hands them parsed SMB messages on a connection, the
scanner hands them DNS queries and "this source sent something to TCP/445 of that host". Every detector
writes into one `AlertBook`, which keeps one alert per (kind, src, dst, dport) and aggregates repeats into
`count` (distinct connections, hosts or queries) and a short `evidence` list.
"""

from __future__ import annotations

import datetime
import struct

from .packets import ip_text
from .smb import (
    COMMAND_NAMES,
    SECONDARY_OF,
    SMB_COM_ECHO,
    SMB_COM_NEGOTIATE,
    SMB_COM_NT_TRANSACT,
    SMB_COM_NT_TRANSACT_SECONDARY,
    SMB_COM_TRANSACTION,
    SMB_COM_TRANSACTION2,
    SMB_COM_TRANSACTION2_SECONDARY,
    SMB_COM_TREE_CONNECT_ANDX,
    SMB_COM_WRITE_ANDX,
    STATUS_INSUFF_SERVER_RESOURCES,
    STATUS_NOT_IMPLEMENTED,
    Connection,
    Smb1Message,
)

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
MAX_EVIDENCE = 10
MAX_EVENTS = 10_000

# Published WannaCry kill-switch domains (the original, the 2.0 variants registered in the following days,
# and the ones listed in vendor IOC feeds). Sub-domains (www.…) match too.
KILLSWITCH_DOMAINS = frozenset({
    "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "iuqssfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf.com",
    "fferfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwff.com",
    "iuqerfsodp9ifjaposdfjhgosurijfaewrwergweb.com",
    "ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf.net",
})
_KILLSWITCH_LENGTHS = frozenset(len(d) for d in KILLSWITCH_DOMAINS)

# FuzzBunch EternalBlue's SMB ECHO payload (the ET "Echo Request/Response" rules key on it).
FUZZBUNCH_ECHO = b"JlJmIhClBsr"
# EternalChampion's race payload and EternalRomance's info-leak pattern (ET rules 2024212 / 2024208).
ETERNALCHAMPION_MARKER = b"zb12g12DWrLehig24"
ETERNALROMANCE_LEAK = b"LSbfLScnLSepLSlfLSmf"

TRANS2_SESSION_SETUP = 0x000E
TRANS_PEEK_NAMED_PIPE = 0x0023
NT_TRANSACT_RENAME = 0x0005
DOUBLEPULSAR_OPCODES = {0x23: "ping", 0xC8: "exec", 0x77: "kill"}


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat().replace("+00:00", "Z")


class AlertBook:
    """Aggregated alerts: one per (kind, src, dst, dport)."""

    def __init__(self):
        self._alerts: dict[tuple, dict] = {}

    def add(self, kind: str, severity: str, src: bytes | None, dst: bytes | None, dport: int | None, ts: float,
            event, evidence: str) -> None:
        key = (kind, src, dst, dport)
        alert = self._alerts.get(key)
        if alert is None:
            alert = self._alerts[key] = {"kind": kind, "severity": severity, "src": src, "dst": dst,
                                         "dport": dport, "first": ts, "last": ts, "events": set(),
                                         "evidence": []}
        else:
            if ts < alert["first"]:
                alert["first"] = ts
            if ts > alert["last"]:
                alert["last"] = ts
            if SEVERITY_RANK[severity] > SEVERITY_RANK[alert["severity"]]:
                alert["severity"] = severity
        if len(alert["events"]) < MAX_EVENTS:
            alert["events"].add(event)
        if evidence and evidence not in alert["evidence"] and len(alert["evidence"]) < MAX_EVIDENCE:
            alert["evidence"].append(evidence)

    def has(self, kind, src, dst, dport) -> bool:
        return (kind, src, dst, dport) in self._alerts

    def export(self, extra: list[dict] = ()) -> list[dict]:
        rows = []
        for alert in list(self._alerts.values()) + list(extra):
            rows.append({
                "kind": alert["kind"], "severity": alert["severity"],
                "src": ip_text(alert["src"]) if alert["src"] else None,
                "dst": ip_text(alert["dst"]) if alert["dst"] else None,
                "dport": alert["dport"], "first_seen": _iso(alert["first"]), "last_seen": _iso(alert["last"]),
                "count": alert.get("count") or len(alert["events"]), "evidence": list(alert["evidence"]),
            })
        rows.sort(key=lambda r: (-SEVERITY_RANK[r["severity"]], r["first_seen"], r["kind"], r["src"] or ""))
        return rows


def _conn_text(conn: Connection) -> str:
    return f"{ip_text(conn.client)}:{conn.sport} -> {ip_text(conn.server)}:{conn.dport}"


def _conn_event(conn: Connection) -> tuple:
    return conn.client, conn.sport, conn.server, conn.dport, conn.first_seen


class EternalBlueDetector:
    """`eternalblue`: an SMB1 TRANS2_SECONDARY that continues an NT_TRANSACT.

    Invariant: a secondary request must continue a primary of its own family (TRANSACTION2 for
    TRANS2_SECONDARY). Vulnerable srv.sys looked transactions up by (pid, mid, tid, uid) only, so EternalBlue
    opens an NT_TRANSACT with a huge total data count and feeds it with TRANS2_SECONDARY requests (whose
    16-bit displacement field triggers the buffer overflow). No legitimate client ever mixes the families.
    FuzzBunch's marker ECHO payload ("JlJmIhClBsr") on the same connection is added as evidence; on its
    own it also raises the alert, as it is only ever sent by the EternalBlue tool.
    """

    kind = "eternalblue"
    severity = "critical"

    def smb1(self, conn: Connection, m: Smb1Message, book: AlertBook) -> None:
        if m.reply:
            return
        if m.command == SMB_COM_TRANSACTION2_SECONDARY and m.primary == SMB_COM_NT_TRANSACT:
            tree = conn.trees.get(m.tid)
            evidence = (f"{_conn_text(conn)}: TRANS2_SECONDARY continues NT_TRANSACT "
                        f"(pid {m.pid}, mid {m.mid}, tid {m.tid}, uid {m.uid})" + (f" on {tree}" if tree else ""))
            book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                     evidence)
            if "nt-rename" in conn.marks:
                book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                         "NT_TRANSACT with the unimplemented function NT_RENAME")
        elif m.command == SMB_COM_NT_TRANSACT:
            tx = m.transaction()
            if tx and tx["function"] == NT_TRANSACT_RENAME:
                conn.marks.add("nt-rename")
        elif m.command == SMB_COM_ECHO and FUZZBUNCH_ECHO in m.data:
            book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                     f"{_conn_text(conn)}: FuzzBunch EternalBlue ECHO marker")


class DoublePulsarDetector:
    """`doublepulsar`: Trans2 SESSION_SETUP requests, and Trans2 replies that shift the MID by 16–18.

    Invariants: TRANS2 subcommand 0x000e (SESSION_SETUP) is reserved and never implemented by Windows, so
    no legitimate client sends it; DoublePulsar uses it as its command channel, the command being the sum
    of the bytes of the Timeout field (0x23 ping, 0xc8 exec, 0x77 kill). A server reply always carries the
    request's MID; the implant answers with MID + 16 (81 for a ping of MID 65) + 1 / + 2 for other states,
    with STATUS_NOT_IMPLEMENTED — a reply to a MID that was never requested.
    """

    kind = "doublepulsar"
    severity = "critical"

    def smb1(self, conn: Connection, m: Smb1Message, book: AlertBook) -> None:
        if m.command != SMB_COM_TRANSACTION2:
            return
        if not m.reply:
            tx = m.transaction()
            if tx and tx["setup"] and tx["setup"][0] == TRANS2_SESSION_SETUP:
                timeout = tx["timeout"]
                opcode = sum(timeout.to_bytes(4, "little")) & 0xFF
                conn.requests[("dp", m.pid, m.tid, m.uid)] = m.mid
                book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                         f"{_conn_text(conn)}: Trans2 SESSION_SETUP (subcommand 0x000e), mid {m.mid}, "
                         f"timeout 0x{timeout:08x} = {DOUBLEPULSAR_OPCODES.get(opcode, f'opcode 0x{opcode:02x}')}")
            return
        request_mid = conn.requests.get(("dp", m.pid, m.tid, m.uid))
        shifted = request_mid is not None and (m.mid - request_mid) in (16, 17, 18)
        # Without the request (a capture that starts mid-stream), only the implant's exact answer counts.
        unrequested = 81 <= m.mid <= 83 and m.key not in conn.transactions and m.status == STATUS_NOT_IMPLEMENTED
        if shifted or unrequested:
            status = "STATUS_NOT_IMPLEMENTED" if m.status == STATUS_NOT_IMPLEMENTED else f"0x{m.status:08x}"
            book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                     f"{_conn_text(conn)}: Trans2 reply with MID {m.mid}"
                     + (f" (request MID {request_mid} + {m.mid - request_mid})" if shifted else "")
                     + f", {status}: implant answered")


class Ms17010Detector:
    """`ms17-010`: MS17-010 probing and the EternalRomance/Synergy/Champion family, as named invariants (after Zeek's
    EternalSafety package). Each piece of evidence starts with the name of the invariant it breaks:

    - `write-andx-in-transaction`: a WRITE_ANDX with the (pid, mid, tid, uid) of a transaction still in progress
      on the connection. A client never reuses the MID of a request it still waits on; EternalRomance/Synergy does,
      so that srv.sys copies the write into the transaction's buffer (type confusion of a write and a TRANSACTION).
    - `nt-rename-race`: an NT_TRANSACT_SECONDARY that follows an NT_TRANSACT NT_RENAME and begins in the TCP segment
      that ends it. NT_RENAME is unimplemented (clients "SHOULD NOT" send it) and secondaries wait for the server's
      interim response, so the two in one segment are EternalChampion racing the transaction's execution.
    - `secondary-of-another-family`: a secondary continuing a primary of another family (TRANS2_SECONDARY on a
      TRANSACTION, TRANSACTION_SECONDARY on an NT_TRANSACT, ...); TRANS2_SECONDARY on an NT_TRANSACT is
      EternalBlue's own and raises `eternalblue` instead.
    - `peek-named-pipe-fid0`: a PeekNamedPipe TRANSACTION on FID 0 (no pipe is ever open as FID 0), the well-known
      vulnerability probe (high); answered STATUS_INSUFF_SERVER_RESOURCES, the target is unpatched (critical).
    The tools' fixed payloads (EternalChampion's race string, EternalRomance's leak pattern) add `payload-marker`.
    """

    kind = "ms17-010"

    def _add(self, conn: Connection, m: Smb1Message, book: AlertBook, severity: str, invariant: str,
             what: str) -> None:
        book.add(self.kind, severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                 f"{invariant}: {_conn_text(conn)}: {what}")

    def smb1(self, conn: Connection, m: Smb1Message, book: AlertBook) -> None:
        command = m.command
        if m.reply:
            request = conn.requests.get(m.key)
            if request and request[0] == "peek":
                del conn.requests[m.key]
                if m.status == STATUS_INSUFF_SERVER_RESOURCES:
                    self._add(conn, m, book, "critical", "peek-named-pipe-fid0",
                              "probe answered STATUS_INSUFF_SERVER_RESOURCES (target unpatched)")
            if command == SMB_COM_TRANSACTION and ETERNALROMANCE_LEAK in m.raw:
                self._add(conn, m, book, "critical", "payload-marker",
                          "EternalRomance info-leak pattern in a TRANSACTION reply")
            return
        if command == SMB_COM_TRANSACTION:
            tx = m.transaction()
            if tx and len(tx["setup"]) >= 2 and tx["setup"][0] == TRANS_PEEK_NAMED_PIPE and tx["setup"][1] == 0:
                conn.requests[m.key] = ("peek", m.ts)
                self._add(conn, m, book, "high", "peek-named-pipe-fid0",
                          f"PeekNamedPipe on FID 0 (mid {m.mid}): the MS17-010 probe")
            if ETERNALCHAMPION_MARKER in m.raw:
                self._add(conn, m, book, "critical", "payload-marker", "EternalChampion race payload")
        elif command == SMB_COM_WRITE_ANDX:
            open_transaction = conn.transactions.get(m.key)
            if open_transaction is not None and open_transaction.in_progress:
                self._add(conn, m, book, "critical", "write-andx-in-transaction",
                          f"WRITE_ANDX inside the {COMMAND_NAMES[open_transaction.command]} still in progress with "
                          f"the same ids (pid {m.pid}, mid {m.mid}, tid {m.tid}, uid {m.uid})")
            if ETERNALCHAMPION_MARKER in m.raw:
                self._add(conn, m, book, "critical", "payload-marker", "EternalChampion payload in WRITE_ANDX")
        elif command in SECONDARY_OF:
            if m.primary is not None and m.primary != SECONDARY_OF[command] and not (
                    command == SMB_COM_TRANSACTION2_SECONDARY and m.primary == SMB_COM_NT_TRANSACT):
                self._add(conn, m, book, "critical", "secondary-of-another-family",
                          f"{m.name} continues the {COMMAND_NAMES[m.primary]} with the same ids "
                          f"(pid {m.pid}, mid {m.mid}, tid {m.tid}, uid {m.uid})")
            previous = conn.previous_primary
            if (command == SMB_COM_NT_TRANSACT_SECONDARY and m.adjacent and previous is not None
                    and previous.command == SMB_COM_NT_TRANSACT and previous.function == NT_TRANSACT_RENAME):
                self._add(conn, m, book, "critical", "nt-rename-race",
                          f"NT_TRANSACT_SECONDARY (mid {m.mid}) in the segment that ends the NT_TRANSACT NT_RENAME "
                          "before it (EternalChampion's race)")


class SmbV1Detector:
    """`smbv1`: SMBv1 actually in use (a policy finding, low severity).

    Invariant: modern clients still open with an SMB1 NEGOTIATE offering SMB2 dialects, and a modern server
    answers it in SMB2; SMBv1 is *in use* only when a server answers in SMB1 or a client sends any SMB1
    command other than NEGOTIATE. One finding per client/server pair, counted per connection.
    """

    kind = "smbv1"
    severity = "low"

    def smb1(self, conn: Connection, m: Smb1Message, book: AlertBook) -> None:
        if "smbv1" in conn.marks:
            return
        if m.command == SMB_COM_NEGOTIATE and not m.reply:
            return
        conn.marks.add("smbv1")
        what = "NEGOTIATE answered in SMB1" if m.command == SMB_COM_NEGOTIATE else f"SMB1 {m.name}"
        if m.command == SMB_COM_NEGOTIATE and conn.dialects:
            index = struct.unpack_from("<H", m.words)[0] if len(m.words) >= 2 else 0xFFFF
            if index < len(conn.dialects):
                what += f" (dialect {conn.dialects[index]!r} chosen)"
        if m.command == SMB_COM_TREE_CONNECT_ANDX and not m.reply:
            what += " " + tree_path(m)
        book.add(self.kind, self.severity, conn.client, conn.server, conn.dport, m.ts, _conn_event(conn),
                 f"{_conn_text(conn)}: {what}")


def tree_path(m: Smb1Message) -> str:
    """The share path of a TREE_CONNECT_ANDX request."""
    data = m.data
    if m.flags2 & 0x8000:  # unicode: the path starts after the password, aligned to 2 from the SMB header
        password_length = struct.unpack_from("<H", m.words, 6)[0] if len(m.words) >= 8 else 0
        start = password_length + ((33 + len(m.words) + 2 + password_length) % 2)
        text = data[start:].decode("utf-16-le", "replace")
    else:
        text = data.decode("latin-1")
    return text.split("\x00", 1)[0][:80]


class SmbScanDetector:
    """`smb-scan`: one source reaching many distinct hosts on TCP/445 (worm propagation).

    Invariant: an SMB client talks to a handful of file servers and domain controllers; a worm or scanner
    talks to dozens. Any packet from the source towards port 445 counts (SYN or not), so captures that start
    mid-stream still count, and the count is window-free (a set of destinations per source), so timestamp
    order does not matter. Memory is bounded: at most `max_sources` sources and `max_targets` each.
    """

    kind = "smb-scan"
    severity = "high"

    def __init__(self, threshold: int = 10, max_sources: int = 100_000, max_targets: int = 1024):
        self.threshold = threshold
        self.max_sources = max_sources
        self.max_targets = max_targets
        # src -> [targets set, first ts, last ts, targets beyond max_targets]. The scanner calls note() once per
        # (src, dst) pair, so the overflow count is a count of distinct hosts too.
        self.sources: dict[bytes, list] = {}

    def note(self, ts: float, src: bytes, dst: bytes) -> None:
        entry = self.sources.get(src)
        if entry is None:
            if len(self.sources) >= self.max_sources:
                return
            self.sources[src] = [{dst}, ts, ts, 0]
            return
        targets = entry[0]
        if dst not in targets:
            if len(targets) < self.max_targets:
                targets.add(dst)
            else:
                entry[3] += 1
        if ts < entry[1]:
            entry[1] = ts
        elif ts > entry[2]:
            entry[2] = ts

    def alerts(self) -> list[dict]:
        rows = []
        for src, (targets, first, last, overflow) in self.sources.items():
            if len(targets) < self.threshold:
                continue
            sample = sorted(targets)[:5]
            rows.append({"kind": self.kind, "severity": self.severity, "src": src, "dst": None, "dport": 445,
                         "first": first, "last": last, "count": len(targets) + overflow,
                         "evidence": [f"{len(targets) + overflow} distinct hosts reached on TCP/445",
                                      "e.g. " + ", ".join(ip_text(t) for t in sample)]})
        return rows


class KillSwitchDetector:
    """`wannacry-killswitch`: a DNS query for a WannaCry kill-switch domain.

    Invariant: WannaCry resolves (then fetches) its kill-switch domain before it spreads; these names are
    random-looking and never used by anything else, so one query is an infected host. Queries only (QR=0),
    so a resolver's answer does not count twice; the alert is per querying host and resolver.
    """

    kind = "wannacry-killswitch"
    severity = "critical"

    def dns(self, ts: float, src: bytes, dst: bytes, dport: int, payload: bytes, book: AlertBook) -> None:
        if dport != 53 or len(payload) < 17 or payload[2] & 0x80:  # not a query
            return
        name = dns_question(payload)
        if not name or len(name) < 40:
            return
        match = name if name in KILLSWITCH_DOMAINS else None
        if match is None:
            for length in _KILLSWITCH_LENGTHS:
                if len(name) > length and name[-length - 1] == "." and name[-length:] in KILLSWITCH_DOMAINS:
                    match = name[-length:]
                    break
        if match:
            book.add(self.kind, self.severity, src, dst, 53, ts, (payload[:2], ts),
                     f"DNS query for {name}")


def dns_question(payload: bytes) -> str | None:
    """The first question name of a DNS message, lower-case without the trailing dot, or None."""
    if (payload[4] << 8 | payload[5]) == 0:
        return None
    labels = []
    pos = 12
    size = len(payload)
    while pos < size:
        length = payload[pos]
        if length == 0:
            break
        if length & 0xC0 or pos + 1 + length > size or len(labels) > 127:
            return None
        labels.append(payload[pos + 1:pos + 1 + length])
        pos += 1 + length
    else:
        return None
    return b".".join(labels).decode("latin-1").lower()
