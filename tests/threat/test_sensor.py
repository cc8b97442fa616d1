"""The live sensor: a kernel BPF filter on a raw socket, the engine's detectors, alerts in the database in 5 s.

The live test builds its own network namespace and veth pair (lab.live, as `lab traffic --live` does), injects
a lab WannaCry capture from inside the namespace, and tears everything down. No address is configured and IPv6
is off on both ends, so no frame goes anywhere but across that veth (frames addressed to other MACs are dropped
by the receiving stack).
"""

import os
import secrets
import struct
import threading
import time

import pytest
from django.db import OperationalError, close_old_connections

from lab import live
from lab.traffic import write_scenario
from threat.engine.pcapio import read_frames
from threat.services.sensor import FILTER_TEXT, Sensor, bpf_accepts

LIVE_KINDS = {"smb-scan", "wannacry-killswitch", "eternalblue"}


def reference_accepts(frame: bytes) -> bool:
    """DESIGN's filter written plainly: TCP 445/139 or UDP 53/137/138, either direction (IPv4 and IPv6)."""
    if len(frame) < 14:
        return False
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0800 and len(frame) >= 34:
        proto, fragment = frame[23], struct.unpack_from("!H", frame, 20)[0] & 0x1FFF
        offset = 14 + 4 * (frame[14] & 0x0F)
        if fragment or len(frame) < offset + 4:
            return False
    elif ethertype == 0x86DD and len(frame) >= 58:
        proto, offset = frame[20], 54
    else:
        return False
    sport, dport = struct.unpack_from("!HH", frame, offset)
    ports = {6: (445, 139), 17: (53, 137, 138)}.get(proto, ())
    return sport in ports or dport in ports


def _frame(ethertype=0x0800, proto=6, sport=1234, dport=445, fragment=0, ihl=5):
    if ethertype == 0x86DD:
        ip = struct.pack("!IHBB16s16s", 0x60000000, 20, proto, 64, b"\x00" * 16, b"\x00" * 16)
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 40, 1, fragment, 64, proto, 0, b"\n\x00\x00\x01",
                         b"\n\x00\x00\x02") + b"\x00" * (4 * (ihl - 5))
    ethernet = b"\x02" * 6 + b"\x04" * 6 + struct.pack("!H", ethertype)
    return ethernet + ip + struct.pack("!HH", sport, dport) + b"\x00" * 16


@pytest.mark.parametrize(("frame", "accepted"), [
    (_frame(dport=445), True), (_frame(sport=445, dport=50000), True), (_frame(dport=139), True),
    (_frame(proto=17, dport=53), True), (_frame(proto=17, sport=137, dport=137), True),
    (_frame(proto=17, dport=138), True), (_frame(dport=80), False), (_frame(dport=53), False),
    (_frame(proto=17, dport=445), False), (_frame(dport=3389), False), (_frame(fragment=0x20), False),
    (_frame(ihl=7, dport=445), True), (_frame(0x86DD, dport=445), True), (_frame(0x86DD, proto=17, dport=53), True),
    (_frame(0x86DD, dport=443), False), (_frame(0x0806), False), (b"\x00" * 20, False), (b"", False),
])
def test_the_bpf_program_is_the_design_filter(frame, accepted):
    assert bpf_accepts(frame) is accepted
    assert reference_accepts(frame) is accepted


@pytest.fixture(scope="module")
def lab_captures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    paths = {s: folder / f"{s}.pcap" for s in ("wannacry", "portscan", "office")}
    for scenario, path in paths.items():
        write_scenario(scenario, path, seed=1)
    return paths


def test_the_bpf_program_agrees_with_the_filter_on_every_lab_frame(lab_captures):
    for path in lab_captures.values():
        for _ts, _link, frame in read_frames(path):
            assert bpf_accepts(frame) == reference_accepts(frame)


@pytest.fixture
def veth():
    """(sensor end in this namespace, injector end, namespace): created by lab.live, deleted after."""
    if os.geteuid() != 0:
        pytest.skip("the live sensor test creates a network namespace and a veth pair: it needs root")
    near = f"ont{secrets.token_hex(3)}s"
    made = live.create(near)
    try:
        yield near, made["peer"], made["namespace"]
    finally:
        live.delete(near)


def _inject(namespace, iface, path):
    """Replay from inside the namespace onto `iface` (the peer, lab0) with lab.live's replay."""
    assert iface == live.PEER
    return live.inject(namespace.removeprefix(live.NAMESPACE_PREFIX), path)


def _located_kinds():
    from threat.models import Alert

    for _ in range(5):
        try:
            return {a.kind: a for a in Alert.objects.select_related("agency", "switch")}
        except OperationalError:  # SQLite's shared-cache test database: the sensor thread may hold a lock
            time.sleep(0.02)
    return {}


@pytest.fixture
def sensor_on(veth):
    sensors = []

    def start(iface, locate=True):
        sensor = Sensor(iface, flush_s=0.5, locate=locate)
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.update(sensor.run(seconds=60)), daemon=True)
        thread.start()
        assert sensor.ready.wait(10)
        sensors.append((sensor, thread))
        return sensor, thread, outcome

    yield start
    for sensor, thread in sensors:
        sensor.stop()
        thread.join(15)
        assert not thread.is_alive()


@pytest.mark.netns
@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_live_wannacry_outbreak_is_in_the_database_within_5_seconds_with_agency_switch_and_port(
        lab_inventory, veth, sensor_on, lab_captures):
    from collectors.services.backup import backup_devices

    near, far, namespace = veth
    # The collectors' regular backup has read the site's ARP and MAC tables (manage.py backup).
    patient_zero = next(h for h in lab_inventory.hosts if h.ip == "10.20.1.14")
    for device in (patient_zero.gateway, patient_zero.switch):
        assert backup_devices(device_name=device)["failed"] == 0
    close_old_connections()
    sensor, thread, outcome = sensor_on(near)
    started = time.monotonic()
    sent = _inject(namespace, far, lab_captures["wannacry"])
    injected = time.monotonic()
    alerts = {}
    while time.monotonic() - injected < 10:
        alerts = _located_kinds()
        if LIVE_KINDS <= set(alerts) and all(alerts[k].switch_id for k in LIVE_KINDS):
            break
        time.sleep(0.1)
    latency = time.monotonic() - injected
    print(f"\nlive sensor: {sent} frames injected in {injected - started:.2f} s; alerts located in the database "
          f"{latency:.2f} s after the injection ended ({time.monotonic() - started:.2f} s after it began)")
    assert LIVE_KINDS <= set(alerts), f"missing {LIVE_KINDS - set(alerts)}"
    assert latency <= 5.0
    for kind in LIVE_KINDS:
        alert = alerts[kind]
        assert alert.source == "sensor" and alert.agency.slug == patient_zero.agency
    scanner = alerts["smb-scan"]  # both infected hosts scan; the first is patient zero unless the victim's won
    host = next(h for h in lab_inventory.hosts if h.ip == scanner.src)
    assert (scanner.switch.name, scanner.switch_port) == (host.switch, host.port)
    assert alerts["wannacry-killswitch"].switch.name == patient_zero.switch


@pytest.mark.netns
@pytest.mark.django_db(transaction=True)
def test_the_kernel_filter_passes_only_smb_netbios_and_dns(demo_inventory, veth, sensor_on, lab_captures):
    near, far, namespace = veth
    close_old_connections()
    sensor, thread, outcome = sensor_on(near, locate=False)
    expected = 0
    for scenario in ("portscan", "office", "wannacry"):
        _inject(namespace, far, lab_captures[scenario])
        expected += sum(1 for _ts, _link, frame in read_frames(lab_captures[scenario]) if reference_accepts(frame))
    deadline = time.monotonic() + 5
    while sensor.scanner.packets < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    sensor.stop()
    thread.join(15)
    assert outcome["filter"] == FILTER_TEXT
    assert outcome["packets"] == expected  # not one web, RDP or TLS frame reached user space
    assert {a["kind"] for a in outcome["alerts"]} >= LIVE_KINDS
    assert outcome["created"] >= len(LIVE_KINDS)


def test_the_sensor_command_names_an_unknown_interface(capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="THREAT_IFACE_UNKNOWN"):
        call_command("threat", "sensor", "--iface", "no-such-if0", "--seconds", "1")
