"""The SNMP poll cycle: counters in, rates out, device state kept, every sample written once.

One cycle polls every active device that is expected to answer SNMP (or one device), in a few
processes with bounded concurrency (collectors/snmp/client.py). A device that times out, refuses
the community or lies fails alone and is marked; the others are not delayed. So does a device whose
credential cannot be decrypted (CREDENTIAL_UNREADABLE) or whose address cannot be sent to.

Each cycle is a PollRun that is always closed (finished, or failed in a `finally`), holds a lock per county
(PollLock) so two cycles never poll the same devices at once (POLL_ALREADY_RUNNING), and has a deadline
derived from the settings: a run still open past it was killed, and is marked expired when noticed.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from collectors.models import (
    CounterSnapshot,
    DeviceState,
    InterfaceSample,
    PollLock,
    PollRun,
    PollRunStatus,
    SnmpState,
)
from collectors.services.availability import record_polls
from collectors.services.discovery import discover_devices
from collectors.services.selection import devices_to_collect
from collectors.services.targets import (  # noqa: F401 - snmp_target, CredentialUnreadable: their old import path
    ERROR_STATES,
    CredentialUnreadable,
    snmp_target,
    snmp_targets,
)
from collectors.snmp.client import poll_many_processes
from collectors.snmp.rates import interface_rates, utilisation
from inventory.choices import RegionLevel
from inventory.models import Device, Interface, Region
from web.errors import OneNetError

log = logging.getLogger(__name__)

COUNTERS = ("in_octets", "out_octets", "in_errors", "out_errors", "in_discards", "out_discards")


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


# ------------------------------------------------------------------ runs: deadlines, locks, always closed


class PollRefused(OneNetError):
    """Another open run already polls (part of) this scope."""

    def __init__(self, holder: PollRun | None):
        self.holder = holder
        since = f" since {timezone.localtime(holder.started_at):%Y-%m-%d %H:%M:%S}" if holder else ""
        what = f"poll run {holder.pk} ({holder.status}, scope {holder.scope}{since})" if holder else "another poll"
        super().__init__("POLL_ALREADY_RUNNING", f"{what} already covers these devices; wait for it to end (the "
                                                 "Bandwidth page shows it), then poll again.")


def cycle_budget_s(device_count: int) -> float:
    """The longest a cycle over `device_count` devices can take: a run still open past it is dead.

    Every device is bounded by ONENET_SNMP_DEADLINE_S (plus the client's 1 s guard); each process runs
    ONENET_POLL_CONCURRENCY of its share at once, in waves; a first cycle discovers before it polls (two
    phases); the rest is the database's share and process start-up.
    """
    processes = max(1, min(settings.ONENET_POLL_PROCESSES, device_count or 1))
    waves = max(1, math.ceil(math.ceil(device_count / processes) / max(1, settings.ONENET_POLL_CONCURRENCY)))
    return 2 * waves * (settings.ONENET_SNMP_DEADLINE + 2) + 120 + 0.05 * device_count


def _partition(path: str) -> str:
    """The lock of a region path: its county's path, or "city" for the city level's own devices."""
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/{parts[1]}/" if len(parts) >= 2 else "city"


def cycle_scope(device_name: str | None = None, region_path: str | None = None,
                city_only: bool = False) -> tuple[str, list[str]]:
    """A cycle's scope (as PollRun.scope records it) and the locks it takes.

    Locks are per county, plus "city" for the city level's own devices, so overlapping scopes exclude each other
    too: the whole network takes them all, a device or a township takes its county's.
    """
    if device_name:
        path = Device.objects.filter(name=device_name).values_list("site__region__path", flat=True).first()
        return f"device:{device_name}", [_partition(path) if path else f"device:{device_name}"]
    if city_only:
        return "city", ["city"]
    if region_path and region_path.strip("/").count("/") >= 1:  # a county or below
        return region_path, [_partition(region_path)]
    counties = Region.objects.filter(level=RegionLevel.COUNTY).values_list("path", flat=True)
    return region_path or "/", ["city", *sorted(_partition(p) for p in counties)]


def runs_in_progress():
    """Runs queued or running and not past their deadline (call expire_overdue_runs first to record the rest)."""
    return PollRun.objects.filter(status__in=PollRun.OPEN, deadline_at__gt=timezone.now())


def expire_overdue_runs() -> int:
    """Mark expired the open runs past their deadline: their poller was killed or its task never ran."""
    now = timezone.now()
    return PollRun.objects.filter(status__in=PollRun.OPEN).filter(
        Q(deadline_at__lte=now) | Q(deadline_at__isnull=True)).update(
        status=PollRunStatus.EXPIRED, finished_at=now,
        error="POLL_EXPIRED: the run did not end by its deadline; its worker was stopped or killed, or no worker "
              "took its task. The next cycle polls these devices again.")


def start_run(scope: str, keys: list[str], budget_s: float, run_id: int | None = None,
              status: str = PollRunStatus.RUNNING) -> PollRun:
    """Open a run (or take over the queued run `run_id`) holding the locks `keys` until now + budget_s.

    Raises PollRefused when an open run already holds one of them. Atomic, so either every lock is taken or none.
    """
    expire_overdue_runs()
    now = timezone.now()
    try:
        with transaction.atomic():
            # Locks of runs that are over (closed, or expired just above) are free.
            PollLock.objects.filter(key__in=keys).exclude(run__status__in=PollRun.OPEN).delete()
            opened = {"status": status, "started_at": now, "deadline_at": now + timedelta(seconds=budget_s)}
            # Taking over a queued run is a compare-and-set, so two workers given the same task cannot both.
            if run_id is not None and PollRun.objects.filter(pk=run_id, status=PollRunStatus.QUEUED).update(**opened):
                run = PollRun.objects.get(pk=run_id)
            else:
                run = PollRun.objects.create(scope=scope, **opened)
            held = set(PollLock.objects.filter(run=run).values_list("key", flat=True))
            PollLock.objects.bulk_create([PollLock(key=k, run=run) for k in keys if k not in held])
    except IntegrityError:
        holder = PollLock.objects.filter(key__in=keys).select_related("run").first()
        raise PollRefused(holder.run if holder else None) from None
    return run


def finish_run(run: PollRun, error: str | None = None) -> None:
    """Close a run and free its locks; `error` makes it failed."""
    run.finished_at = timezone.now()
    run.status = PollRunStatus.FAILED if error else PollRunStatus.FINISHED
    run.error = (error or "")[:300]
    run.save()
    PollLock.objects.filter(run=run).delete()


def _refused(scope: str, refusal: PollRefused) -> dict:
    holder = refusal.holder
    return {"run": None, "scope": scope, "refused": refusal.code, "message": str(refusal),
            "running": {"run": holder.pk, "scope": holder.scope, "status": holder.status,
                        "started_at": holder.started_at.isoformat()} if holder else None,
            "devices_polled": 0, "devices_failed": 0, "interfaces": 0, "samples_written": 0, "seconds": 0.0,
            "failed": []}


def poll_cycle(device_name: str | None = None, region_path: str | None = None, city_only: bool = False,
               run_id: int | None = None) -> dict:
    """One poll cycle; returns DESIGN's `poll` figures, or `refused` when another cycle polls these devices.

    `run_id`: the run 'collect now' queued for this cycle. The run is closed whatever happens (a crash marks it
    failed), and its shard processes never outlive it (collectors.snmp.client.poll_many_processes).
    """
    started = time.monotonic()
    scope, keys = cycle_scope(device_name, region_path, city_only)
    devices = list(pollable_devices(device_name, region_path, city_only))
    try:
        run = start_run(scope, keys, cycle_budget_s(len(devices)), run_id=run_id)
    except PollRefused as refusal:
        log.warning("poll %s refused: %s", scope, refusal)
        if run_id is not None:  # its request is served by the run that holds the lock
            PollRun.objects.filter(pk=run_id, status=PollRunStatus.QUEUED).delete()
        return _refused(scope, refusal)
    error = None
    try:
        failures, written, interfaces, polled = _poll(devices)
        run.devices_polled, run.devices_failed = polled, len(failures)
        run.interfaces, run.samples_written = interfaces, written
    except BaseException as exc:  # noqa: BLE001 - recorded, then raised again
        error = f"POLL_FAILED: {type(exc).__name__}: {exc}"
        raise
    finally:
        run.seconds = round(time.monotonic() - started, 3)
        try:
            finish_run(run, error)
        except Exception:  # noqa: BLE001 - the database itself may be what failed: the deadline expires the run
            log.exception("poll %s: could not close run %s", scope, run.pk)
    return _summary(run, failures)


def _poll(devices: list[Device]) -> tuple[list[dict], int, int, int]:
    """Discover the undiscovered, poll the rest; (failures, samples written, interfaces, devices polled)."""
    if not devices:
        return [], 0, 0, 0
    states = _state_for([d.pk for d in devices])
    written, interfaces, failures = 0, 0, []
    reachable, unreadable = snmp_targets(devices)
    for device in devices:
        if device.pk in unreadable:
            state = states[device.pk]
            state.last_poll_at, state.snmp_state = timezone.now(), SnmpState.ERROR
            state.last_poll_error = unreadable[device.pk]
            failures.append({"device": device.name, "state": state.snmp_state, "error": state.last_poll_error})
    undiscovered = [d for d, _ in reachable if states[d.pk].last_discovery_at is None]
    if undiscovered:
        # A device that fails its discovery is not asked again in the same cycle: it would only time out twice.
        failed = set(discover_devices(undiscovered)["failed_devices"])
        for state in DeviceState.objects.filter(device__name__in=failed).select_related("device"):
            failures.append({"device": state.device.name, "state": state.snmp_state, "error": state.last_poll_error})
        reachable = [(d, t) for d, t in reachable if d.name not in failed]
    results = poll_many_processes([t for _, t in reachable], processes=settings.ONENET_POLL_PROCESSES,
                                  concurrency=settings.ONENET_POLL_CONCURRENCY)
    interface_maps = _interface_maps([d.pk for d, _ in reachable])
    for (device, _), result in zip(reachable, results, strict=True):
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
    updated = [states[d.pk] for d, _ in reachable] + [states[i] for i in unreadable]
    DeviceState.objects.bulk_update(updated, [
        "snmp_state", "last_poll_at", "last_poll_ok_at", "last_poll_error", "sys_uptime", "counter_bits"])
    # Availability: every device of the cycle was polled once; those that failed discovery did not answer.
    answered = {d.pk for (d, _), r in zip(reachable, results, strict=True) if r.ok}
    record_polls({d.pk: d.pk in answered for d in devices})
    return failures, written, interfaces, sum(1 for r in results if r.ok)


def _summary(run: PollRun, failures: list[dict]) -> dict:
    return {"run": run.pk, "scope": run.scope, "status": run.status, "devices_polled": run.devices_polled,
            "devices_failed": run.devices_failed, "interfaces": run.interfaces,
            "samples_written": run.samples_written, "seconds": run.seconds, "failed": failures}


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
