"""One hostile record fails alone (DESIGN "Reliability and security"): a bad EVE line or capture packet is
reported by its number and skipped, the rest is analysed and stored, and small hostile inputs (gzip bombs,
absurd timestamps, deep JSON, endless lines) are bounded instead of crashing or spinning.

Hostile inputs are built here with struct and zlib; nothing binary is committed."""

import io
import json
import math
import socket
import struct
import tracemalloc
import zlib

import pytest
from django.core.management import call_command

from threat.engine import pcapio
from threat.engine.pcapio import read_frames
from threat.models import Alert
from threat.services import eve
from threat.services.alerts import ingest_alerts, parse_time
from threat.services.eve import read_eve

# -- building captures ------------------------------------------------------------------------------------
SCANNER, TARGETS = "10.1.1.1", [f"10.2.0.{i}" for i in range(1, 13)]
START = 1_494_576_000  # 2017-05-12, WannaCry day


def tcp_frame(src: str, dst: str, dport: int = 445, flags: int = 0x02) -> bytes:
    """Ethernet / IPv4 / TCP with no payload (a SYN by default): 54 bytes."""
    tcp = struct.pack(">HHIIBBHHH", 49152, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src),
                     socket.inet_aton(dst))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def scan_frames() -> list[bytes]:
    """One source reaching 12 hosts on TCP/445: an smb-scan alert (threshold 10) even if one packet is lost."""
    return [tcp_frame(SCANNER, target) for target in TARGETS]


def pcap_header(linktype: int = 1) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def pcap(frames, linktype: int = 1) -> bytes:
    return pcap_header(linktype) + b"".join(
        struct.pack("<IIII", START + i, 0, len(f), len(f)) + f for i, f in enumerate(frames))


def _block(kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng(interfaces, packets) -> bytes:
    """interfaces: [(linktype, if_tsresol byte or None)]; packets: [(interface, ticks, frame)]."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for linktype, resolution in interfaces:
        options = struct.pack("<HHB3x", 9, 1, resolution) if resolution is not None else b""
        out.append(_block(1, struct.pack("<HHI", linktype, 0, 262144) + options + struct.pack("<HH", 0, 0)))
    for interface, ticks, frame in packets:
        out.append(_block(6, struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame),
                                         len(frame)) + frame))
    return b"".join(out)


def scan_json(path) -> dict:
    """`manage.py threat scan PATH --json`, parsed."""
    out = io.StringIO()
    call_command("threat", "scan", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def smb_scan(result) -> dict:
    (alert,) = [a for a in result["alerts"] if a["kind"] == "smb-scan"]
    return alert


# -- pcapng timestamps --------------------------------------------------------------------------------------
# (if_tsresol byte, ticks of the hostile packet): each is a time no datetime can hold.
ABSURD_TIMES = {
    "2^64 ticks of 1 s (if_tsresol 2^0)": (0x80, 2 ** 64 - 1),
    "2^63 ticks of 1 s (if_tsresol 10^0)": (0, 2 ** 63),
    "2^64 - 1 microseconds (default if_tsresol)": (None, 2 ** 64 - 1),
    "2^40 seconds, year 36812": (0x80, 2 ** 40),
}


@pytest.mark.parametrize(("resolution", "ticks"), ABSURD_TIMES.values(), ids=ABSURD_TIMES.keys())
def test_pcapng_packet_with_an_unrepresentable_time_is_reported_by_number_and_skipped(tmp_path, resolution,
                                                                                        ticks):
    per_second = 1 if resolution in (0, 0x80) else 10 ** 6
    packets = [(0, (START + i) * per_second, frame) for i, frame in enumerate(scan_frames())]
    packets[2] = (0, ticks, packets[2][2])
    path = tmp_path / "absurd.pcapng"
    path.write_bytes(pcapng([(1, resolution)], packets))

    result = scan_json(path)

    assert [w for w in result["warnings"] if "packet 3" in w and "time" in w]
    alert = smb_scan(result)
    assert alert["count"] == 11  # the other packets are all analysed
    assert alert["first_seen"].startswith("2017-05-12") and alert["last_seen"].startswith("2017-05-12")


def test_many_absurd_times_are_reported_a_few_then_counted(tmp_path):
    frames = scan_frames() * 20
    # every other round of 12 packets has an absurd time: 120 bad packets, all 12 hosts still seen
    packets = [(0, 2 ** 64 - 1 if i // 12 % 2 else (START + i) * 10 ** 6, frame) for i, frame in enumerate(frames)]
    path = tmp_path / "absurd.pcapng"
    path.write_bytes(pcapng([(1, None)], packets))

    result = scan_json(path)

    assert len(result["warnings"]) <= pcapio.MAX_PACKET_WARNINGS + 1
    assert any("120 packets" in w for w in result["warnings"])
    assert smb_scan(result)["count"] == 12


# -- link types ------------------------------------------------------------------------------------------
def _classic(linktype):
    return pcap(scan_frames(), linktype=linktype)


def _pcapng_unknown_only(linktype):
    return pcapng([(linktype, None)], [(0, (START + i) * 10 ** 6, f) for i, f in enumerate(scan_frames())])


UNKNOWN_LINKS = {
    "pcap, USER0": (_classic, 147),
    "pcap, 802.11 radiotap": (_classic, 127),
    "pcap, gzip'd": (lambda linktype: zlib.compress(_classic(linktype), wbits=31), 147),
    "pcapng, USER0": (_pcapng_unknown_only, 147),
}


@pytest.mark.parametrize(("build", "linktype"), UNKNOWN_LINKS.values(), ids=UNKNOWN_LINKS.keys())
def test_unknown_link_type_gives_a_warning_naming_it(tmp_path, build, linktype):
    path = tmp_path / "capture"
    path.write_bytes(build(linktype))

    result = scan_json(path)

    assert [w for w in result["warnings"] if f"link type {linktype}" in w]
    assert result["alerts"] == []


def test_unknown_link_type_of_one_pcapng_interface_leaves_the_others_analysed(tmp_path):
    frames = scan_frames()
    packets = [(i // 12, (START + i) * 10 ** 6, frame) for i, frame in enumerate(frames + frames)]
    path = tmp_path / "two-interfaces.pcapng"
    path.write_bytes(pcapng([(1, None), (147, None)], packets))

    result = scan_json(path)

    assert [w for w in result["warnings"] if "link type 147" in w and "interface 1" in w]
    assert smb_scan(result)["count"] == 12


def test_general_reader_warns_about_an_unknown_link_type_once(tmp_path):
    path = tmp_path / "user0.pcap"
    path.write_bytes(_classic(147))
    warnings: list[str] = []

    frames = list(read_frames(path, warnings))

    assert len(frames) == 12
    assert len([w for w in warnings if "link type 147" in w]) == 1


# -- gzip bombs ------------------------------------------------------------------------------------------
MIB = 1 << 20


def _gzip_member(data: bytes) -> bytes:
    return zlib.compress(data, 9, wbits=31)


def _zero_records(mib: int) -> bytes:
    return b"\x00" * (mib * MIB)


def _smb_records(mib: int) -> bytes:
    record = struct.pack("<IIII", START, 0, 54, 54) + tcp_frame(SCANNER, TARGETS[0], flags=0x18)
    return record * (mib * MIB // len(record))


# A ~1 MB gzip file that expands to 1 GiB: a pcap header, then 1 MiB members repeated (gzip allows concatenated
# members, so the bomb is cheap to build), or one 64 MiB member.
BOMBS = {
    "zeros, 1024 members of 1 MiB": lambda: _gzip_member(pcap_header()) + _gzip_member(_zero_records(1)) * 1024,
    "repeated SMB packets, 1024 members": lambda: _gzip_member(pcap_header()) + _gzip_member(_smb_records(1)) * 1024,
    "zeros, one 64 MiB member": lambda: _gzip_member(pcap_header() + _zero_records(64)),
    "empty blocks after a pcapng header": lambda: _gzip_member(pcapng([(1, None)], []))
    + _gzip_member(_block(0x0BAD, b"") * (MIB // 12)) * 1024,
}


@pytest.mark.parametrize("build", BOMBS.values(), ids=BOMBS.keys())
def test_gzip_bomb_stops_at_the_decompression_ratio_bound(tmp_path, build):
    path = tmp_path / "bomb.pcap.gz"
    path.write_bytes(build())

    result = scan_json(path)

    assert [w for w in result["warnings"] if "decompression ratio" in w and f"{pcapio.MAX_GZIP_RATIO}" in w]
    read = result["bytes"] + 16 * result["packets"]
    assert read <= 16 * MIB  # of the 64 MiB to 1 GiB the bomb would expand to


def test_highly_compressible_real_traffic_is_not_mistaken_for_a_bomb(tmp_path):
    """An SMB copy of an all-zero file is about the most compressible real capture (~100:1 at gzip -9)."""
    frames = []
    for i in range(8000):
        tcp = struct.pack(">HHIIBBHHH", 49152, 445, 1 + i * 1460, 1, 5 << 4, 0x10, 65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40 + 1460, i & 0xFFFF, 0, 64, 6, 0,
                         socket.inet_aton(SCANNER), socket.inet_aton(TARGETS[0]))
        frames.append(b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + b"\x00" * 1460)
    data = pcap_header() + b"".join(struct.pack("<IIII", START + i // 1000, i * 997 % 10 ** 6, len(f), len(f)) + f
                                    for i, f in enumerate(frames))
    packed = _gzip_member(data)
    assert len(data) / len(packed) > 50
    path = tmp_path / "zero-file-copy.pcap.gz"
    path.write_bytes(packed)

    result = scan_json(path)

    assert result["warnings"] == [] and result["packets"] == 8000


# -- EVE ---------------------------------------------------------------------------------------------------
def eve_alert(src: str, timestamp="2026-05-12T08:00:01.000100+0000", **extra) -> dict:
    return {"timestamp": timestamp, "event_type": "alert", "src_ip": src, "dest_ip": "10.19.1.40", "dest_port": 445,
            "proto": "TCP", "alert": {"signature_id": 2024218, "signature": "ET EXPLOIT Possible ETERNALBLUE MS17-010",
                                      "severity": 1}, **extra}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _with_time(raw: str) -> str:
    return json.dumps(eve_alert("10.19.1.99")).replace('"2026-05-12T08:00:01.000100+0000"', raw)


# Hostile second lines of an EVE file, and the code each is reported with.
HOSTILE_LINES = {
    "nesting past the recursion limit": (json.dumps(eve_alert("10.19.1.99"))[:-1] + ', "x": ' + nested(100_000)
                                         + "}", "THREAT_EVE_TOO_DEEP"),
    "nesting of 200 in a valid alert": (json.dumps(eve_alert("10.19.1.99"))[:-1] + ', "x": ' + nested(200) + "}",
                                        "THREAT_EVE_TOO_DEEP"),
    "bare deep array": (nested(50_000), "THREAT_EVE_TOO_DEEP"),
    "year 9999": (_with_time('"9999-12-31T23:59:59+0000"'), "THREAT_EVE_BAD_TIME"),
    "year 9999 west of UTC": (_with_time('"9999-12-31T23:59:59-0100"'), "THREAT_EVE_BAD_TIME"),
    "year 1": (_with_time('"0001-01-01T00:00:00+0000"'), "THREAT_EVE_BAD_TIME"),
    "epoch 1e20": (_with_time("1e20"), "THREAT_EVE_BAD_TIME"),
    "epoch 10^400": (_with_time("1" + "0" * 400), "THREAT_EVE_BAD_TIME"),
    "negative epoch": (_with_time("-1"), "THREAT_EVE_BAD_TIME"),
    "NaN": (_with_time("NaN"), "THREAT_EVE_BAD_TIME"),
    "Infinity": (_with_time("Infinity"), "THREAT_EVE_BAD_TIME"),
}


def import_eve_json(path) -> dict:
    out = io.StringIO()
    call_command("threat", "import-eve", str(path), "--no-locate", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
@pytest.mark.parametrize(("line", "code"), HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_hostile_eve_line_is_reported_by_number_and_the_good_lines_are_stored(tmp_path, line, code):
    path = tmp_path / "eve.json"
    path.write_text("\n".join([json.dumps(eve_alert("10.19.1.20")), line, json.dumps(eve_alert("10.19.1.21"))]) + "\n")

    result = import_eve_json(path)

    assert [(b["line"], b["code"]) for b in result["bad_lines"]] == [(2, code)]
    assert result["created"] == 2 and result["events"] == 2
    assert set(Alert.objects.values_list("src", flat=True)) == {"10.19.1.20", "10.19.1.21"}


@pytest.mark.django_db
def test_overlong_eve_line_is_skipped_without_being_read_whole(tmp_path):
    huge = json.dumps(eve_alert("10.19.1.99", payload="A" * (8 * eve.MAX_LINE)))
    lines = [json.dumps(eve_alert("10.19.1.20")), huge, json.dumps(eve_alert("10.19.1.21")), "{not json"]
    path = tmp_path / "eve.json"
    path.write_text("\n".join(lines) + "\n")

    tracemalloc.start()
    try:
        parsed = read_eve(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 4 * eve.MAX_LINE  # the 8 MiB line never sits in memory whole
    assert [(b["line"], b["code"]) for b in parsed["bad_lines"]] == [(2, "THREAT_EVE_LINE_TOO_LONG"),
                                                                     (4, "THREAT_EVE_BAD_LINE")]
    assert sorted(a["src"] for a in parsed["alerts"]) == ["10.19.1.20", "10.19.1.21"]
    assert import_eve_json(path)["created"] == 2


@pytest.mark.django_db
def test_eve_file_with_too_many_distinct_alerts_keeps_the_first_and_names_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(eve, "MAX_ALERTS", 3)
    path = tmp_path / "eve.json"
    path.write_text("\n".join(json.dumps(eve_alert(f"10.19.1.{20 + i}")) for i in range(5)) + "\n"
                    + json.dumps(eve_alert("10.19.1.20")) + "\n")

    result = import_eve_json(path)

    assert [(b["line"], b["code"]) for b in result["bad_lines"]] == [(4, "THREAT_EVE_TOO_MANY_ALERTS"),
                                                                     (5, "THREAT_EVE_TOO_MANY_ALERTS")]
    assert result["created"] == 3 and result["events"] == 4  # line 6 adds to an alert already kept


# -- timestamps in the ingest path ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1e20, -1, -1e12, math.nan, math.inf, -math.inf, 10 ** 400, 253402300800, True,
                                   "9999-12-31T23:59:59+0000", "9999-12-31T23:59:59-01:00",
                                   "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2108-01-01T00:00:00Z", "",
                                   "yesterday"], ids=lambda value: repr(value)[:30])
def test_parse_time_rejects_unrepresentable_times_with_a_value_error(value):
    with pytest.raises(ValueError):
        parse_time(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("2017-05-12T10:00:00.123456+0000", "2017-05-12T10:00:00.123456+00:00"),
    ("2017-05-12T18:00:00+08:00", "2017-05-12T10:00:00+00:00"),
    ("2017-05-12T10:00:00Z", "2017-05-12T10:00:00+00:00"),
    (1494583200, "2017-05-12T10:00:00+00:00"),
    (0, "1970-01-01T00:00:00+00:00"),
])
def test_parse_time_reads_iso_and_epoch_times_as_utc(value, expected):
    assert parse_time(value).isoformat() == expected


@pytest.mark.django_db
def test_ingest_skips_a_row_whose_time_cannot_be_stored():
    good = {"kind": "smb-scan", "severity": "high", "src": "10.19.1.20", "dst": None, "dport": 445,
            "first_seen": "2017-05-12T10:00:00Z", "last_seen": "2017-05-12T10:05:00Z", "count": 12,
            "evidence": ["12 distinct hosts reached on TCP/445"]}
    hostile = {**good, "src": "10.19.1.21", "last_seen": "9999-12-31T23:59:59Z"}

    result = ingest_alerts([hostile, good], "pcap", locate=False)

    assert result["created"] == 1 and result["rejected"] == 1
    assert list(Alert.objects.values_list("src", flat=True)) == ["10.19.1.20"]
