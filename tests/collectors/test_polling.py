"""The poll cycle against the lab's real SNMP agents: rates, device state, samples written once."""

import time

import pytest
from django.core.management import call_command

from collectors.models import CounterSnapshot, DeviceState, InterfaceSample, SnmpState
from collectors.services import polling
from inventory.models import Device, Interface
from lab.profile import mean_rate_bps

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def polled_twice(lab, lab_ports, django_db_setup, django_db_blocker):
    """The test lab imported and polled twice, 12 s apart; kept for the module, flushed after it."""
    from django.conf import settings

    from inventory.services import import_document
    from lab.services import inventory_document

    saved = settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES = 1.5, 1
    with django_db_blocker.unblock():
        import_document(inventory_document(lab, *lab_ports), "test-lab")
        first = polling.poll_cycle()
        first_times = dict(CounterSnapshot.objects.values_list("interface_id", "timestamp"))
        time.sleep(12)
        second = polling.poll_cycle()
        yield lab, first, second, first_times
        call_command("flush", "--noinput", verbosity=0)
    settings.ONENET_SNMP_TIMEOUT, settings.ONENET_SNMP_RETRIES = saved


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


def test_rates_match_the_lab_traffic_profile_within_five_percent(polled_twice):
    topology, _, _, first_times = polled_twice
    checked = 0
    for link in topology.links:
        if set(topology.device(link.a_device).faults) & {"snmp-timeout", "snmp-wrong-community", "reboots"}:
            continue
        interface = Interface.objects.get(device__name=link.a_device, name=link.a_interface)
        sample = InterfaceSample.objects.get(interface=interface)
        # The lab's own mean rate over the interval between the two readings.
        expected = mean_rate_bps(link, "ab", first_times[interface.pk], interface.counter_snapshot.timestamp)
        assert sample.out_bps == pytest.approx(expected, rel=0.05), link
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
