"""Hostile input never crashes the engine: random bytes as files, frames and TCP payloads, and mutated real
frames from an attack capture."""

import os
import random
import struct
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.topology import generate
from lab.traffic import write_scenario
from threat.engine import Scanner, scan_files
from threat.engine.pcapio import read_frames
from threat.engine.smb import SmbAnalyser

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


@pytest.fixture(scope="module")
def attack_frames(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "eternalblue.pcap"
    write_scenario("eternalblue", path, seed=3, topology=generate("demo", 3))
    return [frame for _, _, frame in read_frames(path)]


def _scan_bytes(data: bytes, suffix=".pcap"):
    handle, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return scan_files([name])
    finally:
        os.unlink(name)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_files_never_crash(data):
    result = _scan_bytes(data)
    assert isinstance(result["alerts"], list)


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from([PCAP_HEADER, b"\x0a\x0d\x0d\x0a"]))
def test_random_bodies_after_a_valid_magic_never_crash(body, head):
    result = _scan_bytes(head + body)
    assert result["packets"] >= 0


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([0, 1, 101, 113, 276, 228, 229, 147]), st.binary(max_size=200)),
                max_size=30))
def test_random_frames_never_crash(frames):
    scanner = Scanner()
    for linktype, frame in frames:
        scanner.feed(1.0, linktype, frame)
    scanner.alerts()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(0, 0xFF), st.binary(max_size=300)), max_size=40),
       st.booleans())
def test_random_tcp_payloads_never_crash_the_smb_analyser(segments, to_server):
    scanner = Scanner()
    analyser = SmbAnalyser(scanner)
    client, server = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
    for seq, flags, payload in segments:
        if to_server:
            analyser.segment(1.0, client, server, 50000, 445, seq, flags, payload)
        else:
            analyser.segment(1.0, server, client, 445, 50000, seq, flags, b"\x00\x00\x00\x40\xffSMB" + payload)
    scanner.alerts()


@FUZZ
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 12))
def test_mutated_attack_frames_never_crash(attack_frames, seed, mutations):
    rng = random.Random(seed)
    scanner = Scanner()
    for frame in attack_frames:
        frame = bytearray(frame)
        for _ in range(rng.randint(0, mutations)):
            action = rng.random()
            if action < 0.6 and frame:
                frame[rng.randrange(len(frame))] = rng.getrandbits(8)
            elif action < 0.8:
                frame = frame[: rng.randrange(len(frame) + 1)]
            else:
                at = rng.randrange(len(frame) + 1)
                frame[at:at] = rng.randbytes(rng.randint(1, 40))
        scanner.feed(1.0, 1, bytes(frame))
    for alert in scanner.alerts():
        assert alert["kind"] in {"eternalblue", "doublepulsar", "ms17-010", "smbv1", "smb-scan",
                                 "wannacry-killswitch"}


@FUZZ
@given(st.integers(0, 2 ** 32 - 1))
def test_truncated_and_mutated_capture_files_never_crash(attack_frames, seed):
    rng = random.Random(seed)
    body = b"".join(struct.pack("<IIII", 1, 0, len(f), len(f)) + f for f in attack_frames)
    data = bytearray(PCAP_HEADER + body)
    for _ in range(rng.randint(0, 5)):
        data[rng.randrange(24, len(data))] = rng.getrandbits(8)
    result = _scan_bytes(bytes(data[: rng.randrange(24, len(data) + 1)]))
    assert result["packets"] <= len(attack_frames) + 5
