"""`ms17-010`'s named invariants, after Zeek's EternalSafety: each exploit pattern, made here with scapy the way the
real tools put it on the wire (../shared/corpus and EternalSafety's baselines show what real ones look like), raises
an alert whose evidence names its invariant; benign SMB1 traffic that uses the same commands legitimately raises
nothing but the SMBv1 finding."""

import random

import pytest

from lab.traffic import (
    NT_TRANSACT,
    TRANSACTION,
    TRANSACTION2,
    Capture,
    Endpoint,
    TcpSession,
    smb1,
    smb1_negotiate,
    smb1_negotiate_response,
    smb1_nt_transact,
    smb1_nt_transact_response,
    smb1_nt_transact_secondary,
    smb1_session_setup,
    smb1_session_setup_response,
    smb1_trans2,
    smb1_trans2_secondary,
    smb1_transaction,
    smb1_transaction_response,
    smb1_transaction_secondary,
    smb1_tree_connect,
    smb1_tree_connect_response,
    smb1_write_andx,
    smb1_write_andx_response,
    write_pcap,
)
from threat.engine import scan_files

ATTACKER = Endpoint("10.19.1.66", "02:00:00:00:01:66")
SERVER = Endpoint("10.19.1.10", "02:00:00:00:01:10")
IDS = {"uid": 2048, "tid": 2049, "pid": 0xFEFF}
PIPE = b"\\PIPE\\\x00"
FID = 0x4000
TRANS_TRANSACT_NMPIPE, TRANS_PEEK_NMPIPE = 0x0026, 0x0023
TRANS2_QUERY_PATH_INFORMATION, TRANS2_SET_FILE_INFORMATION = 0x0005, 0x0008
NT_TRANSACT_SET_SECURITY_DESC, NT_TRANSACT_RENAME = 0x0003, 0x0005
STATUS_INSUFF_SERVER_RESOURCES, STATUS_ACCESS_DENIED = 0xC0000205, 0xC0000022


def smb1_session(cap: Capture, share: str = "IPC$", service: bytes = b"IPC") -> TcpSession:
    """A connection logged on and connected to `share`, with IDS's uid and tid."""
    session = TcpSession(cap, ATTACKER, SERVER, 445).handshake()
    session.request(smb1_negotiate(), smb1_negotiate_response())
    session.request(smb1_session_setup(), smb1_session_setup_response(uid=IDS["uid"]))
    session.request(smb1_tree_connect(f"\\\\{SERVER.ip}\\{share}", uid=IDS["uid"], mid=1),
                    smb1_tree_connect_response(service, uid=IDS["uid"], tid=IDS["tid"], mid=1))
    return session


def interim(command: int, mid: int) -> bytes:
    """The server's interim response: the primary is accepted, send the secondaries."""
    return smb1(command, reply=True, mid=mid, **IDS)


# -- the exploit patterns -------------------------------------------------------------------------------------
def write_andx_into_a_transaction(session, rng):
    """EternalRomance/Synergy: a named-pipe TRANSACTION left waiting for its data, then a WRITE_ANDX with the
    transaction's MID, which srv.sys copies into the transaction's buffer (the write/transaction type confusion)."""
    session.request(smb1_transaction((TRANS_TRANSACT_NMPIPE, FID), PIPE, data=rng.randbytes(512), total_data=4096,
                                     mid=70, **IDS), interim(TRANSACTION, 70))
    session.request(smb1_write_andx(FID, 0, rng.randbytes(1024), mid=70, **IDS),
                    smb1_write_andx_response(1024, mid=70, **IDS))


def nt_rename_then_secondary_in_one_segment(session, rng):
    """EternalChampion: a complete NT_TRANSACT NT_RENAME (4 parameter bytes, 0x10d0 data bytes: 4,384 bytes,
    over three MSS segments) and an NT_TRANSACT_SECONDARY starting in the segment that ends it, racing the
    transaction's execution (EternalSafety's eternalchampion trace has exactly this layout)."""
    rename = smb1_nt_transact(NT_TRANSACT_RENAME, b"\x00" * 4, b"A" * 0x10D0, 0x10D0, mid=14750, **IDS)
    race = smb1_nt_transact_secondary(b"B" * 0x114, 0x114, 0, mid=14750, **IDS)
    session.send(True, rename + race)


def trans2_secondary_into_a_transaction(session, rng):
    """A TRANS2_SECONDARY continuing a TRANSACTION (same MID): a secondary of another family."""
    session.request(smb1_transaction((TRANS_TRANSACT_NMPIPE, FID), PIPE, data=rng.randbytes(512), total_data=2048,
                                     mid=71, **IDS), interim(TRANSACTION, 71))
    session.send(True, smb1_trans2_secondary(rng.randbytes(1536), 2048, 512, mid=71, **IDS))


def transaction_secondary_into_an_nt_transact(session, rng):
    """A TRANSACTION_SECONDARY continuing an NT_TRANSACT: a secondary of another family."""
    session.request(smb1_nt_transact(NT_TRANSACT_SET_SECURITY_DESC, b"\x00" * 8, rng.randbytes(256), 4096, mid=72,
                                     **IDS), interim(NT_TRANSACT, 72))
    session.send(True, smb1_transaction_secondary(rng.randbytes(1024), 4096, 256, mid=72, **IDS))


def peek_named_pipe_on_fid_0(session, rng):
    """The MS17-010 probe (Metasploit's smb_ms17_010, FuzzBunch): PeekNamedPipe on FID 0, answered by an
    unpatched server with STATUS_INSUFF_SERVER_RESOURCES."""
    session.request(smb1_transaction((TRANS_PEEK_NMPIPE, 0), PIPE, mid=73, **IDS),
                    smb1(TRANSACTION, reply=True, status=STATUS_INSUFF_SERVER_RESOURCES, mid=73, **IDS))


ATTACKS = [
    ("write-andx-in-transaction", write_andx_into_a_transaction),
    ("nt-rename-race", nt_rename_then_secondary_in_one_segment),
    ("secondary-of-another-family", trans2_secondary_into_a_transaction),
    ("secondary-of-another-family", transaction_secondary_into_an_nt_transact),
    ("peek-named-pipe-fid0", peek_named_pipe_on_fid_0),
]


# -- benign SMB1 that uses the same commands ------------------------------------------------------------------
def large_write_andx_file_copy(session, rng):
    """A 1.5 MB file copied with pipelined 60 KiB WRITE_ANDX, TRANS2 queries and a TRANS2 set-info interleaved
    with writes in flight (other MIDs), and a WRITE_ANDX reusing the MID of a TRANS2 already answered."""
    session.request(smb1_trans2(TRANS2_QUERY_PATH_INFORMATION, b"\x07\x01\x00\x00\x00\x00copy.bin\x00", mid=10,
                                **IDS), smb1_transaction_response(TRANSACTION2, b"\x00\x00", rng.randbytes(40),
                                                                  mid=10, **IDS))
    offset = 0
    for index in range(12):
        mids = (11 + 2 * index, 12 + 2 * index)
        for mid in mids:
            session.send(True, smb1_write_andx(FID, offset, rng.randbytes(61440), mid=mid, **IDS))
            offset += 61440
        if index == 5:  # set the end of file while two writes are still unanswered
            session.send(True, smb1_trans2(TRANS2_SET_FILE_INFORMATION, b"\x00\x40\x04\x01\x00\x00",
                                           (1_474_560).to_bytes(8, "little"), mid=200, **IDS))
            session.send(False, smb1_transaction_response(TRANSACTION2, b"\x00\x00", mid=200, **IDS))
        for mid in mids:
            session.send(False, smb1_write_andx_response(61440, mid=mid, **IDS))
    session.request(smb1_write_andx(FID, offset, rng.randbytes(4096), mid=10, **IDS),
                    smb1_write_andx_response(4096, mid=10, **IDS))


def nt_transact_continued_by_its_secondary(session, rng):
    """A security descriptor set in two parts: NT_TRANSACT, the interim response, its NT_TRANSACT_SECONDARY."""
    session.request(smb1_nt_transact(NT_TRANSACT_SET_SECURITY_DESC, b"\x00" * 8, rng.randbytes(3000), 6000, mid=20,
                                     **IDS), interim(NT_TRANSACT, 20))
    session.request(smb1_nt_transact_secondary(rng.randbytes(3000), 6000, 3000, mid=20, **IDS),
                    smb1_nt_transact_response(mid=20, **IDS))


def nt_transact_with_its_secondary_in_one_segment(session, rng):
    """A client that does not wait for the interim response: primary and secondary in one segment (not a rename)."""
    primary = smb1_nt_transact(NT_TRANSACT_SET_SECURITY_DESC, b"\x00" * 8, rng.randbytes(200), 400, mid=21, **IDS)
    session.request(primary + smb1_nt_transact_secondary(rng.randbytes(200), 400, 200, mid=21, **IDS),
                    smb1_nt_transact_response(mid=21, **IDS))


def trans2_continued_by_trans2_secondary(session, rng):
    """A TRANS2 FIND_FIRST2 whose data continues in a TRANS2_SECONDARY."""
    data = rng.randbytes(3000)
    session.request(smb1_trans2(0x0001, b"\x16\x00\x00\x04\x06\x00\x04\x01\x00\x00\x00\x00\\*\x00", data[:1000],
                                total_data=3000, mid=30, **IDS), interim(TRANSACTION2, 30))
    session.request(smb1_trans2_secondary(data[1000:], 3000, 1000, mid=30, **IDS),
                    smb1_transaction_response(TRANSACTION2, b"\x00" * 10, rng.randbytes(500), mid=30, **IDS))


def transaction_continued_by_transaction_secondary(session, rng):
    """A named-pipe TRANSACTION (an RPC call) whose data continues in a TRANSACTION_SECONDARY, then a write to the
    pipe once the transaction is answered."""
    data = rng.randbytes(2048)
    session.request(smb1_transaction((TRANS_TRANSACT_NMPIPE, FID), PIPE, data=data[:1024], total_data=2048, mid=40,
                                     **IDS), interim(TRANSACTION, 40))
    session.request(smb1_transaction_secondary(data[1024:], 2048, 1024, mid=40, **IDS),
                    smb1_transaction_response(TRANSACTION, data=rng.randbytes(300), mid=40, **IDS))
    session.request(smb1_write_andx(FID, 0, rng.randbytes(160), mid=40, **IDS),
                    smb1_write_andx_response(160, mid=40, **IDS))


def peek_named_pipe_on_an_open_pipe(session, rng):
    """PeekNamedPipe on the pipe the client opened (FID 0x4000)."""
    session.request(smb1_transaction((TRANS_PEEK_NMPIPE, FID), PIPE, mid=50, **IDS),
                    smb1_transaction_response(TRANSACTION, b"\x00" * 6, mid=50, **IDS))


BENIGN = [large_write_andx_file_copy, nt_transact_continued_by_its_secondary,
          nt_transact_with_its_secondary_in_one_segment, trans2_continued_by_trans2_secondary,
          transaction_continued_by_transaction_secondary, peek_named_pipe_on_an_open_pipe]


def capture_of(tmp_path, flow, share="IPC$", service=b"IPC"):
    """A pcap of one SMB1 connection running `flow`; returns its path and the client's source port."""
    cap = Capture(random.Random(flow.__name__))
    session = smb1_session(cap, share, service)
    flow(session, cap.rng)
    session.close()
    path = tmp_path / f"{flow.__name__}.pcap"
    write_pcap(path, cap.frames)
    return path, session.sport


def invariants(alert) -> set[str]:
    """The invariant names an alert's evidence starts with."""
    return {item.split(":", 1)[0] for item in alert["evidence"]}


@pytest.mark.parametrize(("invariant", "flow"), ATTACKS, ids=[flow.__name__ for _, flow in ATTACKS])
def test_each_exploit_pattern_raises_ms17_010_naming_its_invariant(tmp_path, invariant, flow):
    path, sport = capture_of(tmp_path, flow)
    alerts = {a["kind"]: a for a in scan_files([path])["alerts"]}
    assert set(alerts) == {"ms17-010", "smbv1"}
    alert = alerts["ms17-010"]
    assert (alert["src"], alert["dst"], alert["dport"], alert["severity"]) == (ATTACKER.ip, SERVER.ip, 445, "critical")
    assert invariants(alert) == {invariant}
    assert any(f"{ATTACKER.ip}:{sport} -> {SERVER.ip}:445" in e for e in alert["evidence"])


@pytest.mark.parametrize("flow", BENIGN, ids=[flow.__name__ for flow in BENIGN])
def test_benign_smb1_using_the_same_commands_raises_only_the_smbv1_finding(tmp_path, flow):
    path, _ = capture_of(tmp_path, flow, *(("share", b"A:") if flow is large_write_andx_file_copy else ()))
    assert {a["kind"] for a in scan_files([path])["alerts"]} == {"smbv1"}


def test_the_rename_race_needs_the_secondary_in_the_segment_that_ends_the_rename(tmp_path):
    def rename_then_secondary_later(session, rng):
        session.send(True, smb1_nt_transact(NT_TRANSACT_RENAME, b"\x00" * 4, b"A" * 0x10D0, 0x10D0, mid=9, **IDS))
        session.send(True, smb1_nt_transact_secondary(b"B" * 0x114, 0x114, 0, mid=9, **IDS))

    path, _ = capture_of(tmp_path, rename_then_secondary_later)
    evidence = [e for a in scan_files([path])["alerts"] for e in a["evidence"]]
    assert not any(e.startswith("nt-rename-race") for e in evidence)


def test_a_probe_a_patched_server_refuses_is_still_reported_as_a_probe(tmp_path):
    def probe_refused(session, rng):
        session.request(smb1_transaction((TRANS_PEEK_NMPIPE, 0), PIPE, mid=73, **IDS),
                        smb1(TRANSACTION, reply=True, status=STATUS_ACCESS_DENIED, mid=73, **IDS))

    path, _ = capture_of(tmp_path, probe_refused)
    (alert,) = [a for a in scan_files([path])["alerts"] if a["kind"] == "ms17-010"]
    assert alert["severity"] == "high" and invariants(alert) == {"peek-named-pipe-fid0"}
    assert not any("STATUS_INSUFF_SERVER_RESOURCES" in e for e in alert["evidence"])


def test_a_write_after_the_transaction_was_answered_is_not_interleaved(tmp_path):
    """The MID of an answered transaction is free again: a WRITE_ANDX may reuse it."""
    def answered_then_write(session, rng):
        session.request(smb1_transaction((TRANS_TRANSACT_NMPIPE, FID), PIPE, data=rng.randbytes(512), mid=70, **IDS),
                        smb1_transaction_response(TRANSACTION, data=rng.randbytes(64), mid=70, **IDS))
        session.request(smb1_write_andx(FID, 0, rng.randbytes(1024), mid=70, **IDS),
                        smb1_write_andx_response(1024, mid=70, **IDS))

    path, _ = capture_of(tmp_path, answered_then_write)
    assert {a["kind"] for a in scan_files([path])["alerts"]} == {"smbv1"}
