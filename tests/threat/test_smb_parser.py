"""The streaming SMB analyser: NBSS framing, TCP reassembly, SMB1/SMB2 headers and transaction words."""

import struct

import pytest

from lab.traffic import (
    TRANSACTION2,
    smb1,
    smb1_negotiate,
    smb1_nt_transact,
    smb1_trans2,
    smb1_trans2_secondary,
    smb1_transaction,
    smb2_negotiate,
    smb2_negotiate_response,
)
from threat.engine.packets import ACK, SYN, decode, ip_text
from threat.engine.smb import MESSAGE_CAP, SmbAnalyser

CLIENT = bytes([10, 1, 0, 12])
SERVER = bytes([10, 1, 0, 13])


class Recorder:
    def __init__(self):
        self.smb1_messages = []
        self.smb2_messages = []

    def smb1(self, conn, message):
        self.smb1_messages.append(message)

    def smb2(self, conn, message):
        self.smb2_messages.append(message)


class Stream:
    """Feeds one client->server byte stream into an analyser as TCP segments."""

    def __init__(self, syn=True, isn=1000):
        self.recorder = Recorder()
        self.analyser = SmbAnalyser(self.recorder)
        self.seq = isn
        if syn:
            self.analyser.segment(0.0, CLIENT, SERVER, 50000, 445, isn - 1, SYN, b"")

    def segments(self, payload: bytes, size: int):
        out = []
        for at in range(0, len(payload), size):
            out.append((self.seq + at, payload[at:at + size]))
        self.seq += len(payload)
        return out

    def feed(self, segments, ts=1.0):
        for seq, data in segments:
            self.analyser.segment(ts, CLIENT, SERVER, 50000, 445, seq & 0xFFFFFFFF, ACK, data)


def test_smb1_header_fields_are_decoded():
    stream = Stream()
    stream.feed(stream.segments(smb1(0x2B, b"\x01\x00", b"hello", pid=0x1234, tid=7, uid=9, mid=42), 1460))
    (message,) = stream.recorder.smb1_messages
    assert (message.command, message.pid, message.tid, message.uid, message.mid) == (0x2B, 0x1234, 7, 9, 42)
    assert message.key == (0x1234, 42, 7, 9)
    assert not message.reply
    assert message.words == b"\x01\x00" and message.data == b"hello"
    assert message.name == "ECHO"


@pytest.mark.parametrize("segment_size", [1, 3, 7, 100, 1460])
def test_message_split_across_segments_is_reassembled(segment_size):
    stream = Stream()
    payload = smb1_negotiate() + smb1_trans2(0x000E, b"\x00" * 12, timeout=0x00EDBF77, mid=65)
    stream.feed(stream.segments(payload, segment_size))
    commands = [m.command for m in stream.recorder.smb1_messages]
    assert commands == [0x72, TRANSACTION2]
    tx = stream.recorder.smb1_messages[1].transaction()
    assert tx["setup"] == (0x000E,) and tx["timeout"] == 0x00EDBF77


def test_out_of_order_segments_wait_for_the_gap():
    stream = Stream()
    segments = stream.segments(smb1_transaction((0x23, 0), b"\\PIPE\\\x00", mid=5) + smb1(0x2B, mid=6), 10)
    stream.feed([segments[1], segments[0]] + segments[:1:-1])
    assert [m.mid for m in stream.recorder.smb1_messages] == [5, 6]


def test_retransmissions_are_not_parsed_twice():
    stream = Stream()
    segments = stream.segments(smb1(0x2B, mid=1) + smb1(0x2B, mid=2), 20)
    stream.feed(segments[:2] + segments[:2] + segments[1:])
    assert [m.mid for m in stream.recorder.smb1_messages] == [1, 2]


def test_mid_stream_capture_resynchronises_on_the_next_message():
    stream = Stream(syn=False)
    first = smb1(0x2B, b"", b"x" * 200, mid=1)
    segments = stream.segments(first + smb1(0x2B, mid=2) + smb1(0x2B, mid=3), 64)
    stream.feed(segments[1:])  # the start of the first message was never captured
    assert [m.mid for m in stream.recorder.smb1_messages] == [2, 3]


def test_long_messages_are_capped_and_the_rest_skipped():
    stream = Stream()
    big = smb1_nt_transact(0, b"\x00" * 30, b"A" * 20000, 0x103D0, mid=66)
    stream.feed(stream.segments(big + smb1_trans2_secondary(b"B" * 100, 0x103D0, 20000, mid=66), 1460))
    nt, secondary = stream.recorder.smb1_messages
    assert len(nt.raw) == MESSAGE_CAP and nt.length == len(big) - 4
    assert nt.transaction()["total_data"] == 0x103D0 and nt.transaction()["function"] == 0
    assert secondary.transaction()["data_displacement"] == 20000


def test_smb2_negotiation_records_the_dialect_and_stops_parsing():
    stream = Stream()
    stream.feed(stream.segments(smb2_negotiate(), 1460))
    stream.analyser.segment(1.0, SERVER, CLIENT, 445, 50000, 5000, ACK, smb2_negotiate_response(0x0311))
    conn = next(iter(stream.analyser.connections.values()))
    assert conn.dialect == "3.1.1" and conn.version == 3 and conn.done
    assert stream.recorder.smb2_messages[0].dialects == (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
    stream.feed(stream.segments(smb1(0x2B, mid=9), 1460))
    assert stream.recorder.smb1_messages == []  # an SMB2 connection never goes back to SMB1


def test_netbios_session_request_is_skipped_on_port_139():
    recorder = Recorder()
    analyser = SmbAnalyser(recorder)
    analyser.segment(0.0, CLIENT, SERVER, 50000, 139, 99, SYN, b"")
    session_request = b"\x81\x00\x00\x44" + b"\x20" + b"A" * 66 + b"\x00"
    analyser.segment(1.0, CLIENT, SERVER, 50000, 139, 100, ACK, session_request + smb1(0x72, mid=3))
    assert [m.mid for m in recorder.smb1_messages] == [3]


def test_reset_forgets_the_connection():
    stream = Stream()
    stream.feed(stream.segments(smb1(0x2B, mid=1), 1460))
    stream.analyser.segment(2.0, CLIENT, SERVER, 50000, 445, stream.seq, 0x04, b"")
    assert stream.analyser.connections == {}


def test_reply_flag_and_status():
    stream = Stream()
    stream.analyser.segment(1.0, SERVER, CLIENT, 445, 50000, 7, ACK,
                            smb1(TRANSACTION2, reply=True, status=0xC0000002, mid=81))
    (message,) = stream.recorder.smb1_messages
    assert message.reply and message.status == 0xC0000002 and message.mid == 81


def test_packet_decoder_handles_vlan_and_ipv6():
    from scapy.layers.inet import TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Dot1Q, Ether

    frame = bytes(Ether() / Dot1Q(vlan=10) / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=5000, dport=445,
                                                                                            seq=77) / b"abc")
    proto, src, dst, sport, dport, seq, _flags, payload = decode(1, frame)
    assert (proto, ip_text(src), ip_text(dst), sport, dport, seq, payload) == (6, "fd00::1", "fd00::2", 5000, 445,
                                                                                77, b"abc")
    assert decode(1, frame[:30]) is None
    assert decode(1, struct.pack(">6s6sH", b"", b"", 0x0806) + b"\x00" * 28) is None  # ARP


def test_out_of_order_memory_is_released_and_bounded():
    stream = Stream()
    segments = stream.segments(b"".join(smb1(0x2B, b"", b"z" * 50, mid=m) for m in range(1, 60)), 40)
    stream.feed(segments[1:])  # the first segment is lost for good
    assert stream.analyser.pending_bytes <= 40 * 33
    assert 55 <= len(stream.recorder.smb1_messages) < 59  # re-synchronised after the hole
    stream.analyser.segment(3.0, CLIENT, SERVER, 50000, 445, stream.seq, 0x04, b"")
    assert stream.analyser.pending_bytes == 0


def test_filled_gap_leaves_nothing_pending():
    stream = Stream()
    segments = stream.segments(smb1(0x2B, b"", b"y" * 300, mid=4), 50)
    stream.feed(segments[::-1])
    assert [m.mid for m in stream.recorder.smb1_messages] == [4]
    assert stream.analyser.pending_bytes == 0
