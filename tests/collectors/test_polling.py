"""The poll cycle against the lab's real SNMP agents: rates, device state, samples written once."""

import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from collectors.models import CounterSnapshot, DeviceState, InterfaceSample, SnmpState
from collectors.services import polling
from inventory.models import Device, Interface
from lab.profile import mean_rate_bps
from lab.snmp.agent import lab_epoch
from lab.snmp.mib import DeviceMib
from tests.collectors.test_identify import serving_recordings

RECORDINGS = Path(__file__).parent / "snmprec"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def polled_twice(lab, lab_ports, django_db_setup, django_db_blocker):
    """The test lab imported and polled twice, 12 s apart; kept for the module, flushed after it.

    Yields (topology, first cycle, second cycle, {interface id: sysUpTime of its first reading})."""
    from django.conf import settings

    from inventory.services import import_document
    from lab.services import inventory_document

    saved = settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY
    # The lab's agents answer ~100 devices from one process: with both cores busy every answer waits its turn, and
    # a device that answers late must not count as silent. Fewer requests in flight keep that wait short, a longer
    # timeout covers what remains; the silent devices cost the same few seconds either way.
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY = 5.0, 1, 8
    with django_db_blocker.unblock():
        import_document(inventory_document(lab, *lab_ports), "test-lab")
        first = polling.poll_cycle()
        first_uptimes = dict(CounterSnapshot.objects.values_list("interface_id", "uptime"))
        time.sleep(12)
        second = polling.poll_cycle()
        yield lab, first, second, first_uptimes
        call_command("flush", "--noinput", verbosity=0)
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES, settings.ONENET_POLL_CONCURRENCY = saved


def silent_devices(topology) -> set[str]:
    return {d.name for d in topology.devices if d.status == "active" and
            {"snmp-timeout", "snmp-wrong-community"} & set(d.faults)}


def test_one_cycle_stores_samples_for_every_reachable_device_and_marks_the_others(polled_twice):
    topology, first, second, _ = polled_twice
    silent = silent_devices(topology)
    states = dict(DeviceState.objects.values_list("device__name", "snmp_state"))
    assert {n for n, s in states.items() if s != SnmpState.UP} == silent
    assert {f["device"] for f in first["failed"]} == {f["device"] for f in second["failed"]} == silent
    reachable = Device.objects.exclude(name__in=silent).filter(status="active")
    sampled = set(InterfaceSample.objects.values_list("interface__device__name", flat=True).distinct())
    assert sampled == set(reachable.values_list("name", flat=True))
    assert second["devices_polled"] == reachable.count()
    assert second["samples_written"] == InterfaceSample.objects.count() > 0


def agent_clock(topology, device_name: str, uptime_ticks: int) -> float:
    """The lab agent's own clock when it answered with this sysUpTime: a device that does not reboot has been up
    since a fixed instant (lab.snmp.mib), so the sysUpTime of an answer says when the agent computed its counters."""
    booted = DeviceMib(topology.device(device_name), {}, lab_epoch()).boot_time(0.0)
    return booted + uptime_ticks / 100


def test_rates_match_the_lab_traffic_profile_within_five_percent(polled_twice):
    topology, _, _, first_uptimes = polled_twice
    checked = 0
    for link in topology.links:
        if set(topology.device(link.a_device).faults) & {"snmp-timeout", "snmp-wrong-community", "reboots"}:
            continue
        interface = Interface.objects.get(device__name=link.a_device, name=link.a_interface)
        sample = InterfaceSample.objects.get(interface=interface)
        # The lab's own mean rate over the interval the two readings' counters cover: the agent's interval, which
        # the sysUpTime of each answer gives (and the poller's rate uses), not the poller's wall clock, which a
        # loaded machine stretches by however long the answers waited to be read.
        t0 = agent_clock(topology, link.a_device, first_uptimes[interface.pk])
        t1 = agent_clock(topology, link.a_device, interface.counter_snapshot.uptime)
        assert sample.out_bps == pytest.approx(mean_rate_bps(link, "ab", t0, t1), rel=0.05), link
        checked += 1
    assert checked > 50


def test_rates_are_never_negative_or_above_the_interface_speed(polled_twice):
    for sample in InterfaceSample.objects.select_related("interface"):
        for value in (sample.in_bps, sample.out_bps):
            if value is not None and sample.interface.speed_bps:
                assert 0 <= value <= sample.interface.speed_bps * 1.1


def test_a_repeated_cycle_never_writes_a_sample_twice(polled_twice):
    device = Device.objects.filter(state__snmp_state=SnmpState.UP).order_by("name").first()
    result = polling.poll_many_processes([polling.snmp_target(device)], processes=1)[0]
    before = InterfaceSample.objects.count()
    first, _ = polling._store_rates(device, result, polling._interface_maps([device.pk])[device.pk])
    # The same answers stored again (a retried task): the unique (interface, time) keeps one sample.
    second, _ = polling._store_rates(device, result, polling._interface_maps([device.pk])[device.pk])
    assert first > 0 and second == 0
    assert InterfaceSample.objects.count() == before + first


def test_the_poll_command_reports_the_cycle_as_json(polled_twice, capsys):
    import json

    call_command("poll", "--once", "--device", polled_twice[0].devices[1].name, "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["devices_polled"] == 1 and report["devices_failed"] == 0 and report["interfaces"] > 0


def _recorded_switch_inventory(port: int, community: str) -> dict:
    """One switch at 127.0.0.1:port answering with the recording `community`, its interfaces as recorded."""
    interfaces = [{"name": "GigabitEthernet0/0", "if_index": 1, "speed_bps": 1_000_000_000},
                  {"name": "TenGigabitEthernet1/1/1", "if_index": 9, "speed_bps": 10_000_000_000},
                  {"name": "Vlan10", "if_index": 60, "speed_bps": 1_000_000_000}]
    return {
        "credentials": [{"name": "recorded", "kind": "snmp", "username": "", "secret": community}],
        "regions": [{"slug": "city", "name": "市本级", "level": "city", "parent": None}],
        "sites": [{"slug": "recorded-site", "name": "recorded site", "region": "city", "agency": None}],
        "devices": [{"name": "agency-sw-1", "address": "127.0.0.1", "snmp_port": port, "platform": "cisco_ios",
                     "role": "access", "site": "recorded-site", "status": "active", "snmp_credential": "recorded",
                     "interfaces": interfaces}],
    }


def test_an_interface_with_only_32bit_counters_gets_rates_that_wrap_at_2_to_the_32(db, settings):
    """A Catalyst 9300's management port has ifInOctets but no ifHCInOctets while its other ports have both:
    the poller keeps that port's 32-bit counters (per interface, not per device) and wraps them modulo 2**32."""
    from inventory.services import import_document

    settings.ONENET_POLL_PROCESSES = 1
    recording = RECORDINGS / "c9300_mgmt_port_32bit.snmprec"
    with serving_recordings([recording]) as port:
        import_document(_recorded_switch_inventory(port, recording.stem), "recorded")
        polling.poll_cycle(device_name="agency-sw-1")
        snapshots = {s.interface.if_index: s for s in CounterSnapshot.objects.filter(
            interface__device__name="agency-sw-1").select_related("interface")}
        assert {i: (s.counter_bits, s.in_octets) for i, s in snapshots.items()} == {
            1: (32, 150000), 9: (64, 987654323066521), 60: (64, 8594516524)}
        # The management port's previous reading: 10 s earlier, 250 000 octets before its counter wrapped.
        mgmt = snapshots[1]
        mgmt.in_octets = Decimal(2**32 - 100_000)  # the recording now answers 150 000: a wrap
        mgmt.uptime, mgmt.timestamp = mgmt.uptime - 1000, time.time() - 10
        mgmt.save()
        polling.poll_cycle(device_name="agency-sw-1")
    sample = InterfaceSample.objects.get(interface__device__name="agency-sw-1", interface__if_index=1)
    # 250 000 octets in 10 s of the device's clock (or a little more by the poller's): at most 200 kbit/s, never
    # an absurd 64-bit "wrap" discarded as None
    assert sample.in_bps is not None and 0 < sample.in_bps <= 250_000 * 8 / 10
