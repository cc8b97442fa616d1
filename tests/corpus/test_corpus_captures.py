"""Third-party captures (../shared/corpus, see its README): our verdicts match the expected ones, and the
EternalBlue/DoublePulsar verdicts match the Zeek EternalSafety baseline connection by connection.

Skips when the corpus folder is absent; fails instead when ONENET_REQUIRE_CORPUS=1 (CI)."""

import os
from pathlib import Path

import pytest

from threat.engine import scan_files

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
EXPLOITS = {"eternalblue", "doublepulsar", "ms17-010"}
SHADOWBROKERS = "zeek-EternalSafety/tests/traces/shadowbrokers"
SMB_TRACES = "zeek/testing/btest/Traces/smb"


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.exists():
        message = f"corpus file {path} is absent (the corpus lives in ../shared/corpus next to the project)"
        if os.environ.get("ONENET_REQUIRE_CORPUS") == "1":
            pytest.fail(message + "; ONENET_REQUIRE_CORPUS=1 requires it")
        pytest.skip(message)
    return path


def smb2_05_capture() -> str:
    folder = corpus_file("suricata-verify/tests/smb2-05")
    (capture,) = sorted(folder.glob("*.pcap"))
    return str(capture.relative_to(CORPUS))


# (capture, kinds that must be raised, kinds that must not be, whether *nothing* at all may be raised)
VERDICTS = [
    (f"{SHADOWBROKERS}/eternalblue-success-unpatched-win7.pcap", {"eternalblue", "doublepulsar"},
     {"smb-scan", "ms17-010", "wannacry-killswitch"}, False),
    (f"{SHADOWBROKERS}/doublepulsar-backdoor-connect-win7.pcap", {"doublepulsar"},
     {"eternalblue", "ms17-010", "smb-scan", "wannacry-killswitch"}, False),
    (f"{SMB_TRACES}/smb2.pcap", set(), EXPLOITS | {"smb-scan", "smbv1"}, True),
    (f"{SMB_TRACES}/smb3.pcap", set(), EXPLOITS | {"smb-scan", "smbv1"}, True),
    (f"{SMB_TRACES}/cifs_negotiate_lanman.pcap", set(), EXPLOITS | {"smb-scan"}, False),
    (f"{SMB_TRACES}/smb1_transaction_request.pcap", set(), EXPLOITS | {"smb-scan"}, False),
    ("suricata-verify/tests/smb1-01/smb1.pcap", set(), EXPLOITS | {"smb-scan"}, True),
    ("smb2-05", set(), EXPLOITS | {"smb-scan"}, False),
    ("bro-simple-scan/testing/pcaps/multiport_scan.pcap", set(), EXPLOITS | {"smb-scan"}, True),
]


@pytest.mark.parametrize(("relative", "required", "forbidden", "silent"), VERDICTS,
                         ids=[Path(v[0]).name for v in VERDICTS])
def test_corpus_capture_verdict(relative, required, forbidden, silent):
    if relative == "smb2-05":
        relative = smb2_05_capture()
    result = scan_files([corpus_file(relative)])
    kinds = {alert["kind"] for alert in result["alerts"]}
    assert required <= kinds
    assert not kinds & forbidden
    if silent:
        assert result["alerts"] == []
    assert result["warnings"] == []
    assert result["packets"] > 0


def _zeek_notices(test_name: str) -> list[dict]:
    path = corpus_file(f"zeek-EternalSafety/tests/baseline/{test_name}/notice.log")
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        rows.append({"orig": fields[0], "orig_port": int(fields[1]), "resp": fields[2], "resp_port": int(fields[3]),
                     "note": fields[5]})
    return rows


@pytest.mark.parametrize(("capture", "baseline"), [
    ("eternalblue-success-unpatched-win7.pcap", "eternal-safety.eternalblue"),
    ("doublepulsar-backdoor-connect-win7.pcap", "eternal-safety.doublepulsar-connection"),
])
def test_matches_zeek_eternal_safety_baseline(capture, baseline):
    """Every connection Zeek flags as EternalBlue / DoublePulsar is in our alert's evidence, and vice versa
    for EternalBlue (DoublePulsar: we also flag the Trans2 SESSION_SETUP pings Zeek reports as
    ViolationTx2Cmd, which are the implant's command channel)."""
    alerts = {a["kind"]: a for a in scan_files([corpus_file(f"{SHADOWBROKERS}/{capture}")])["alerts"]}
    notices = _zeek_notices(baseline)
    for note, kind in (("EternalSafety::EternalBlue", "eternalblue"), ("EternalSafety::DoublePulsar", "doublepulsar"),
                       ("EternalSafety::ViolationTx2Cmd", "doublepulsar")):
        expected = {(n["orig"], n["orig_port"], n["resp"], n["resp_port"]) for n in notices if n["note"] == note}
        if not expected:
            assert kind not in alerts or kind == "doublepulsar"
            continue
        alert = alerts[kind]
        for orig, orig_port, resp, resp_port in expected:
            assert (alert["src"], alert["dst"], alert["dport"]) == (orig, resp, resp_port)
            assert any(f"{orig}:{orig_port} -> {resp}:{resp_port}" in e for e in alert["evidence"]), (note, orig_port)
    zeek_eternalblue = {n["orig_port"] for n in notices if n["note"] == "EternalSafety::EternalBlue"}
    if "eternalblue" in alerts:
        assert alerts["eternalblue"]["count"] == len(zeek_eternalblue)


def test_eternalblue_capture_flags_both_exploit_connections():
    result = scan_files([corpus_file(f"{SHADOWBROKERS}/eternalblue-success-unpatched-win7.pcap")])
    (eternalblue,) = [a for a in result["alerts"] if a["kind"] == "eternalblue"]
    assert eternalblue["count"] == 2
    assert (eternalblue["src"], eternalblue["dst"], eternalblue["dport"]) == ("192.168.198.204", "192.168.198.203", 445)
    assert any(":51112 ->" in e for e in eternalblue["evidence"]) and any(":51133 ->" in e for e in
                                                                          eternalblue["evidence"])


def test_doublepulsar_ping_reply_mid_81_is_reported():
    result = scan_files([corpus_file(f"{SHADOWBROKERS}/doublepulsar-backdoor-connect-win7.pcap")])
    (doublepulsar,) = [a for a in result["alerts"] if a["kind"] == "doublepulsar"]
    assert any("MID 81" in e and "STATUS_NOT_IMPLEMENTED" in e for e in doublepulsar["evidence"])
    assert any("= ping" in e for e in doublepulsar["evidence"])


def _zeek_bytes(escaped: str) -> bytes:
    """A Zeek log field (printable bytes as themselves, the others as \\xNN) back to its bytes."""
    out, at = bytearray(), 0
    while at < len(escaped):
        if escaped.startswith("\\x", at):
            out.append(int(escaped[at + 2:at + 4], 16))
            at += 4
        else:
            out += escaped[at].encode("latin-1")
            at += 1
    return bytes(out)


def test_the_nt_transact_zeeks_signature_calls_nt_rename_in_eternalblue_is_function_0_so_no_race():
    """EternalSafety's NT_RENAME signature ends in the class [\\x05\\x00], which also matches function 0: in the
    EternalBlue trace it fires on FuzzBunch's NT_TRANSACT, whose function is 0 (MS-CIFS: NT_TRANSACT_RENAME is 5).
    The nt-rename-race invariant reads the function, so the trace raises no ms17-010 (and the verdict above holds)."""
    from threat.engine.smb import Smb1Message

    path = corpus_file("zeek-EternalSafety/tests/baseline/eternal-safety.eternalblue/notice.log")
    payloads = [line.split("\t")[7] for line in path.read_text().splitlines()
                if "\tSignatures::Sensitive_Signature\t" in line and "NT_RENAME" in line]
    assert len(payloads) == 2  # one per exploit connection
    for payload in payloads:
        raw = _zeek_bytes(payload.removesuffix("..."))
        message = Smb1Message(raw[raw.index(b"\xffSMB"):], len(raw), 0.0)
        assert message.name == "NT_TRANSACT" and message.transaction()["function"] == 0
    result = scan_files([corpus_file(f"{SHADOWBROKERS}/eternalblue-success-unpatched-win7.pcap")])
    assert not any(e.startswith("nt-rename-race") for a in result["alerts"] for e in a["evidence"])
