"""The SNMP poll cycle: counters in, rates out, device state kept, every sample written once.

One cycle polls every active device that is expected to answer SNMP (or one device), in a few
processes with bounded concurrency (collectors/snmp/client.py). A device that times out, refuses
the community or lies fails alone and is marked; the others are not delayed.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from collectors.models import CounterSnapshot, DeviceState, InterfaceSample, PollRun, SnmpState
from collectors.services.selection import devices_to_collect
from collectors.snmp.client import SnmpTarget, poll_many_processes
from collectors.snmp.rates import interface_rates, utilisation
from inventory.models import Device, Interface

log = logging.getLogger(__name__)

# The client's error kinds → the state an operator sees.
ERROR_STATES = {"timeout": SnmpState.UNREACHABLE, "auth": SnmpState.AUTH_FAILED}
COUNTERS = ("in_octets", "out_octets", "in_errors", "out_errors", "in_discards", "out_discards")


def snmp_target(device: Device) -> SnmpTarget:
    credential = device.snmp_credential
    common = {"host": device.address, "port": device.snmp_port, "name": device.name,
              "timeout": settings.ONENET_SNMP_TIMEOUT, "retries": settings.ONENET_SNMP_RETRIES,
              "deadline": settings.ONENET_SNMP_DEADLINE}
    if credential is not None and credential.snmp_version == "3":
        return SnmpTarget(version="3", user=credential.username, auth_key=credential.secret, **common)
    return SnmpTarget(version="2c", community=credential.secret if credential else "public", **common)


def pollable_devices(device_name: str | None = None, region_path: str | None = None, city_only: bool = False):
    """Active devices expected to answer SNMP: all, one by name, one county's, or the city level's own."""
    return devices_to_collect("expect_polling", device_name, region_path, city_only).select_related(
        "snmp_credential")


def _state_for(device_ids) -> dict[int, DeviceState]:
    existing = {s.device_id: s for s in DeviceState.objects.filter(device_id__in=device_ids)}
    missing = [DeviceState(device_id=i) for i in device_ids if i not in existing]
    DeviceState.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        existing = {s.device_id: s for s in DeviceState.objects.filter(device_id__in=device_ids)}
    return existing


def poll_cycle(device_name: str | None = None, region_path: str | None = None, city_only: bool = False) -> dict:
    """One poll cycle; returns DESIGN's `poll` figures."""
    started = time.monotonic()
    if device_name:
        scope = f"device:{device_name}"
    else:
        scope = region_path or ("city" if city_only else "/")
    run = PollRun.objects.create(started_at=timezone.now(), scope=scope)
    devices = list(pollable_devices(device_name, region_path, city_only))
    if not devices:
        run.finished_at, run.seconds = timezone.now(), 0.0
        run.save()
        return _summary(run, [])
    states = _state_for([d.pk for d in devices])
    written, interfaces, failures = 0, 0, []
    undiscovered = [d for d in devices if states[d.pk].last_discovery_at is None]
    if undiscovered:
        from collectors.services.discovery import discover_devices

        # A device that fails its discovery is not asked again in the same cycle: it would only time out twice.
        failed = discover_devices(undiscovered)["failed_devices"]
        for state in DeviceState.objects.filter(device__name__in=failed):
            failures.append({"device": state.device.name, "state": state.snmp_state, "error": state.last_poll_error})
        devices = [d for d in devices if d.name not in failed]
    results = poll_many_processes([snmp_target(d) for d in devices], processes=settings.ONENET_POLL_PROCESSES,
                                  concurrency=settings.ONENET_POLL_CONCURRENCY)
    interface_maps = _interface_maps([d.pk for d in devices])
    for device, result in zip(devices, results, strict=True):
        state = states[device.pk]
        state.last_poll_at = timezone.now()
        if not result.ok:
            state.snmp_state = ERROR_STATES.get(result.error, SnmpState.ERROR)
            state.last_poll_error = (result.error_message or result.error or "")[:300]
            failures.append({"device": device.name, "state": state.snmp_state, "error": state.last_poll_error})
            log.warning("poll %s failed: %s", device.name, state.last_poll_error)
            continue
        for warning in result.warnings:
            log.warning("poll %s: %s", device.name, warning)
        state.snmp_state, state.last_poll_error = SnmpState.UP, ""
        state.last_poll_ok_at = datetime.fromtimestamp(result.timestamp, UTC)
        state.sys_uptime, state.counter_bits = result.sys_uptime, result.counter_bits
        count, n = _store_rates(device, result, interface_maps.get(device.pk, {}))
        written += count
        interfaces += n
    DeviceState.objects.bulk_update([states[d.pk] for d in devices], [
        "snmp_state", "last_poll_at", "last_poll_ok_at", "last_poll_error", "sys_uptime", "counter_bits"])
    run.finished_at = timezone.now()
    run.devices_polled = sum(1 for r in results if r.ok)
    run.devices_failed = len(failures)
    run.interfaces, run.samples_written = interfaces, written
    run.seconds = round(time.monotonic() - started, 3)
    run.save()
    return _summary(run, failures)


def _summary(run: PollRun, failures: list[dict]) -> dict:
    return {"run": run.pk, "devices_polled": run.devices_polled, "devices_failed": run.devices_failed,
            "interfaces": run.interfaces, "samples_written": run.samples_written, "seconds": run.seconds,
            "failed": failures}


def _interface_maps(device_ids) -> dict[int, dict[int, Interface]]:
    maps: dict[int, dict[int, Interface]] = {}
    for interface in Interface.objects.filter(device_id__in=device_ids, if_index__isnull=False).select_related(
            "counter_snapshot"):
        maps.setdefault(interface.device_id, {})[interface.if_index] = interface
    return maps


def _snapshot_dict(snapshot: CounterSnapshot) -> dict:
    row = {"timestamp": snapshot.timestamp, "uptime": snapshot.uptime, "counter_bits": snapshot.counter_bits}
    for key in COUNTERS:
        value = getattr(snapshot, key)
        row[key] = None if value is None else int(value)
    return row


def _store_rates(device: Device, result, interfaces: dict[int, Interface]) -> tuple[int, int]:
    """Rates against the previous snapshot; new snapshots; samples written once (unique interface+time)."""
    sample_time = datetime.fromtimestamp(int(result.timestamp), UTC)
    samples, snapshots = [], []
    for if_index, counters in result.interfaces.items():
        interface = interfaces.get(if_index)
        if interface is None:
            continue  # not discovered yet; the next discovery adds it
        # The uptime of the very response that carried this row: the interval its counters really cover.
        uptime = counters.uptime if counters.uptime is not None else result.sys_uptime
        current = {"timestamp": result.timestamp, "uptime": uptime,
                   "counter_bits": counters.counter_bits, **{k: getattr(counters, k) for k in COUNTERS}}
        previous = getattr(interface, "counter_snapshot", None)  # the reverse accessor raises when absent
        if previous is not None:
            rates = interface_rates(_snapshot_dict(previous), current, speed_bps=interface.speed_bps or None)
            samples.append(InterfaceSample(
                interface=interface, time=sample_time, in_bps=rates.get("in_bps"), out_bps=rates.get("out_bps"),
                in_utilisation=utilisation(rates.get("in_bps"), interface.speed_bps),
                out_utilisation=utilisation(rates.get("out_bps"), interface.speed_bps),
                in_errors_per_s=rates.get("in_errors_per_s"), out_errors_per_s=rates.get("out_errors_per_s"),
                in_discards_per_s=rates.get("in_discards_per_s"),
                out_discards_per_s=rates.get("out_discards_per_s"),
                oper_up=None if counters.oper_status is None else counters.oper_status == "up"))
        snapshots.append(CounterSnapshot(
            interface=interface, timestamp=result.timestamp, uptime=uptime,
            counter_bits=counters.counter_bits,
            **{k: (None if current[k] is None else (Decimal(current[k]) if "octets" in k else current[k]))
               for k in COUNTERS}))
    # A cycle run twice for the same instant (a retried task) must not store a sample twice.
    already = set(InterfaceSample.objects.filter(interface__device=device, time=sample_time)
                  .values_list("interface_id", flat=True))
    samples = [s for s in samples if s.interface.pk not in already]
    with transaction.atomic():
        InterfaceSample.objects.bulk_create(samples, ignore_conflicts=True, batch_size=1000)
        CounterSnapshot.objects.bulk_create(
            snapshots, update_conflicts=True, unique_fields=["interface"],
            update_fields=["timestamp", "uptime", "counter_bits", *COUNTERS], batch_size=1000)
    return len(samples), len(snapshots)
