"""Detectors, table-driven over lab captures: every alert kind fires on its attack, hard negatives stay
silent, and damaged, reordered, gzip'd, pcapng and other link-layer captures are analysed as far as they go."""

import gzip
import random
import struct

import pytest

from lab.topology import generate
from lab.traffic import (
    Capture,
    Endpoint,
    TcpSession,
    big_capture,
    smb1_negotiate,
    smb1_negotiate_response,
    write_pcap,
    write_scenario,
)
from threat.engine import Scanner, scan_files
from threat.engine.pcapio import read_frames

EXPLOITS = {"eternalblue", "doublepulsar", "ms17-010"}
ALERT_KEYS = {"kind", "severity", "src", "dst", "dport", "first_seen", "last_seen", "count", "evidence"}


@pytest.fixture(scope="module")
def topology():
    return generate("demo", 7)


@pytest.fixture(scope="module")
def captures(tmp_path_factory, topology):
    folder = tmp_path_factory.mktemp("captures")
    made = {}
    for scenario in ("office", "eternalblue", "wannacry", "scan", "portscan", "smb1-benign"):
        path = folder / f"{scenario}.pcap"
        made[scenario] = (path, write_scenario(scenario, path, seed=7, topology=topology))
    return made


def kinds(result):
    return {alert["kind"] for alert in result["alerts"]}


@pytest.mark.parametrize(("scenario", "expected", "forbidden"), [
    ("eternalblue", {"eternalblue", "doublepulsar", "ms17-010", "smbv1"}, {"smb-scan", "wannacry-killswitch"}),
    ("wannacry", {"wannacry-killswitch", "smb-scan", "eternalblue", "doublepulsar", "ms17-010"}, set()),
    ("scan", {"smb-scan"}, EXPLOITS | {"smbv1", "wannacry-killswitch"}),
    # hard negatives
    ("office", set(), EXPLOITS | {"smb-scan", "smbv1", "wannacry-killswitch"}),
    ("portscan", set(), EXPLOITS | {"smb-scan", "smbv1"}),
    ("smb1-benign", {"smbv1"}, EXPLOITS | {"smb-scan"}),
])
def test_scenario_raises_exactly_its_alert_kinds(captures, scenario, expected, forbidden):
    path, _info = captures[scenario]
    result = scan_files([path])
    assert expected <= kinds(result)
    assert not kinds(result) & forbidden
    if scenario in ("office", "portscan"):
        assert result["alerts"] == []
    assert result["warnings"] == []
    assert result["packets"] > 0 and result["bytes"] > 0 and result["seconds"] >= 0


def test_alerts_follow_the_json_contract(captures):
    result = scan_files([captures["wannacry"][0]])
    assert set(result) >= {"alerts", "packets", "bytes", "seconds", "warnings"}
    for alert in result["alerts"]:
        assert set(alert) == ALERT_KEYS
        assert alert["severity"] in {"low", "medium", "high", "critical"}
        assert alert["first_seen"] <= alert["last_seen"]
        assert alert["count"] >= 1 and alert["evidence"]


def test_eternalblue_alert_names_attacker_and_victim(captures):
    path, info = captures["eternalblue"]
    alerts = {a["kind"]: a for a in scan_files([path])["alerts"]}
    for kind in ("eternalblue", "doublepulsar", "ms17-010"):
        assert (alerts[kind]["src"], alerts[kind]["dst"], alerts[kind]["dport"]) == (info["attacker"], info["victim"],
                                                                                     445)
    assert alerts["eternalblue"]["severity"] == "critical"
    assert any("TRANS2_SECONDARY continues NT_TRANSACT" in e for e in alerts["eternalblue"]["evidence"])
    assert any("MID 81" in e and "STATUS_NOT_IMPLEMENTED" in e for e in alerts["doublepulsar"]["evidence"])
    assert any("= ping" in e for e in alerts["doublepulsar"]["evidence"])
    assert any("STATUS_INSUFF_SERVER_RESOURCES" in e for e in alerts["ms17-010"]["evidence"])


def test_wannacry_outbreak_is_traced_host_by_host(captures, topology):
    path, info = captures["wannacry"]
    alerts = scan_files([path])["alerts"]
    scanners = {a["src"]: a for a in alerts if a["kind"] == "smb-scan"}
    assert set(scanners) == {info["patient_zero"], info["victim"]}
    assert all(a["count"] >= 250 and a["dport"] == 445 for a in scanners.values())
    killswitch = {a["src"] for a in alerts if a["kind"] == "wannacry-killswitch"}
    assert killswitch == {info["patient_zero"], info["victim"]}
    lab_hosts = {h.ip for h in topology.hosts}
    assert {info["patient_zero"], info["victim"]} <= lab_hosts


def test_one_alert_per_kind_and_pair_with_a_count(captures, tmp_path):
    path, _ = captures["eternalblue"]
    frames = [(ts, frame) for ts, _, frame in read_frames(path)]
    twice = tmp_path / "twice.pcap"
    write_pcap(twice, frames + [(ts + 60, frame) for ts, frame in frames])
    alerts = scan_files([twice])["alerts"]
    eternalblue = [a for a in alerts if a["kind"] == "eternalblue"]
    assert len(eternalblue) == 1
    # the replay reuses the 4-tuples but starts with new SYNs: two exploit connections, one alert
    assert eternalblue[0]["count"] == 2


def _worm_sessions(hosts, seed=5):
    """A worm that talks SMB to each host (full connections), as a mid-stream capture would catch it."""
    capture = Capture(random.Random(seed))
    worm = Endpoint(hosts[0].ip, hosts[0].mac)
    for host in hosts[1:]:
        session = TcpSession(capture, worm, Endpoint(host.ip, host.mac), 445).handshake()
        session.request(smb1_negotiate(), smb1_negotiate_response())
        session.close()
    return worm.ip, capture.frames


def test_smb_scan_works_mid_stream_and_with_timestamps_out_of_order(captures, tmp_path, topology):
    worm, frames = _worm_sessions(topology.hosts[:14])
    no_syn = [(ts, f) for ts, f in frames if not (f[47] & 0x02)]  # no SYN, no SYN/ACK: started mid-stream
    path, info = captures["scan"]
    sweep = [(ts, frame) for ts, _, frame in read_frames(path)]
    shuffled = sweep[:]
    random.Random(1).shuffle(shuffled)
    backwards = [(sweep[-1][0] - ts + sweep[0][0], f) for ts, f in sweep]  # time runs backwards
    for name, variant, scanner in (("nosyn", no_syn, worm), ("shuffled", shuffled, info["scanner"]),
                                   ("backwards", backwards, info["scanner"])):
        out = tmp_path / f"{name}.pcap"
        write_pcap(out, variant)
        scans = [a for a in scan_files([out])["alerts"] if a["kind"] == "smb-scan"]
        assert [a["src"] for a in scans] == [scanner], name
        assert scans[0]["first_seen"] <= scans[0]["last_seen"]
        assert scans[0]["count"] >= 13


def test_scan_threshold_counts_distinct_hosts(captures, tmp_path):
    path, _ = captures["scan"]
    frames = [(ts, f) for ts, _, f in read_frames(path) if f[30:33] == f[26:29] and f[33] <= 9]  # targets .1-.9
    out = tmp_path / "few.pcap"
    write_pcap(out, frames)
    assert "smb-scan" not in kinds(scan_files([out]))


def test_truncated_capture_is_analysed_as_far_as_it_goes(captures, tmp_path):
    path, _ = captures["eternalblue"]
    data = path.read_bytes()
    out = tmp_path / "cut.pcap"
    out.write_bytes(data[: len(data) - 50])
    result = scan_files([out])
    assert {"eternalblue", "doublepulsar"} <= kinds(result)
    assert any("truncated" in w for w in result["warnings"])


@pytest.mark.parametrize("garbage", [b"", b"hello, not a capture", b"\x00" * 100, bytes(range(256)) * 4,
                                     b"\x1f\x8b\x08\x00garbage after a gzip magic"])
def test_garbage_file_gives_a_warning_not_an_exception(tmp_path, garbage):
    out = tmp_path / "garbage.pcap"
    out.write_bytes(garbage)
    result = scan_files([out])
    assert result["alerts"] == [] and result["packets"] == 0
    assert result["warnings"]


def test_truncated_gzip_capture_is_analysed_as_far_as_it_goes(captures, tmp_path):
    path, _ = captures["wannacry"]
    data = gzip.compress(path.read_bytes())
    out = tmp_path / "cut.pcap.gz"
    out.write_bytes(data[: len(data) * 2 // 3])
    result = scan_files([out])
    assert result["packets"] > 0 and result["warnings"]
    assert "wannacry-killswitch" in kinds(result)


def test_corrupt_record_stops_with_a_warning(captures, tmp_path):
    path, _ = captures["eternalblue"]
    data = bytearray(path.read_bytes())
    out = tmp_path / "corrupt.pcap"
    out.write_bytes(bytes(data) + struct.pack("<IIII", 0, 0, 0xFFFFFF, 0xFFFFFF) + b"junk")
    result = scan_files([out])
    assert "eternalblue" in kinds(result)
    assert any("corrupt" in w for w in result["warnings"])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="capture file not found"):
        scan_files([tmp_path / "nope.pcap"])


def _pcapng(frames, linktype=1, resolution=6):
    def block(kind, body):
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 262144) + struct.pack("<HHB3x", 9, 1, resolution)
                 + struct.pack("<HH", 0, 0))]
    for ts, frame in frames:
        ticks = int(round(ts * 10 ** resolution))
        out.append(block(6, struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)) + frame))
    return b"".join(out)


@pytest.mark.parametrize("form", ["gzip", "pcapng", "pcapng-ns", "pcapng.gz", "big-endian"])
def test_compressed_and_pcapng_captures(captures, tmp_path, form):
    path, _ = captures["wannacry"]
    frames = [(ts, f) for ts, _, f in read_frames(path)]
    if form == "gzip":
        data = gzip.compress(path.read_bytes())
    elif form == "pcapng":
        data = _pcapng(frames)
    elif form == "pcapng-ns":
        data = _pcapng(frames, resolution=9)
    elif form == "pcapng.gz":
        data = gzip.compress(_pcapng(frames))
    else:
        data = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(
            struct.pack(">IIII", int(ts), int(ts % 1 * 1e6), len(f), len(f)) + f for ts, f in frames)
    out = tmp_path / f"capture.{form}"
    out.write_bytes(data)
    result = scan_files([out])
    reference = scan_files([path])
    assert kinds(result) == kinds(reference)
    assert result["packets"] == reference["packets"]
    assert [a["first_seen"][:19] for a in result["alerts"]] == [a["first_seen"][:19] for a in reference["alerts"]]


def _relink(frame, linktype):
    if linktype == "vlan":
        return 1, frame[:12] + b"\x81\x00\x00\x64" + frame[12:]
    if linktype == "sll":
        return 113, struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\x00\x00", struct.unpack(">H", frame[12:14])[0]) \
            + frame[14:]
    if linktype == "raw":
        return 101, frame[14:]
    return 1, frame


@pytest.mark.parametrize("link", ["vlan", "sll", "raw"])
def test_link_layers_decode_the_same(captures, link):
    path, _ = captures["eternalblue"]
    scanner = Scanner()
    for ts, _, frame in read_frames(path):
        scanner.feed(ts, *_relink(frame, link))
    assert {"eternalblue", "doublepulsar", "ms17-010"} <= {a["kind"] for a in scanner.alerts()}


def test_live_feed_matches_file_scan(captures):
    path, _ = captures["wannacry"]
    scanner = Scanner()
    for ts, linktype, frame in read_frames(path):
        scanner.feed(ts, linktype, frame)
    assert scanner.alerts() == scan_files([path])["alerts"]


def test_big_capture_is_mixed_valid_and_only_holds_the_planted_attack(tmp_path, topology):
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    out = tmp_path / "big.pcap"
    info = big_capture(out, 3_000_000, seed=2, topology=topology)
    assert out.stat().st_size >= 3_000_000 and info["repeats"] >= 2
    result = scan_files([out])
    assert result["packets"] == info["packets"]
    assert kinds(result) == {"eternalblue", "doublepulsar", "ms17-010", "smbv1"}
    # frames whose addresses were moved still carry correct checksums
    frames = [f for _, _, f in read_frames(out)][-400:]
    for raw in frames[::37]:
        packet = Ether(raw)
        if IP in packet and TCP in packet:
            ip_sum, tcp_sum = packet[IP].chksum, packet[TCP].chksum
            del packet[IP].chksum, packet[TCP].chksum
            rebuilt = Ether(bytes(packet))
            assert (rebuilt[IP].chksum, rebuilt[TCP].chksum) == (ip_sum, tcp_sum)


def test_scenarios_are_deterministic(tmp_path, topology):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    write_scenario("eternalblue", a, seed=11, topology=topology)
    write_scenario("eternalblue", b, seed=11, topology=topology)
    assert a.read_bytes() == b.read_bytes()
    write_scenario("eternalblue", b, seed=12, topology=topology)
    assert a.read_bytes() != b.read_bytes()


def test_unknown_scenario_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario"):
        write_scenario("nope", tmp_path / "x.pcap")
