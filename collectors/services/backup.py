"""SSH config backup: fetch, normalise, store a new version only on change, keep the diff.

The same SSH session also reads the ARP and MAC tables and LLDP neighbours, which locate a host
(IP → MAC → switch port) and draw the topology. Devices are fetched in parallel threads (SSH is
I/O-bound); the database is written from the calling thread only. A device that refuses or times
out fails alone.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from collectors.models import ArpEntry, BackupState, ConfigVersion, DeviceState, LldpNeighbor, MacEntry
from collectors.services.configs import diff_label
from collectors.services.hostkeys import after_session, connection_info
from collectors.services.selection import devices_to_collect
from collectors.signals import config_changed
from inventory.models import Device
from platforms import ConnectionInfo, DriverError, open_driver
from web.errors import OneNetError

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    device_id: int | str
    config: str | None = None
    # NAPALM's tables: get_arp_table, get_mac_address_table, get_lldp_neighbors
    arp: list[dict] = field(default_factory=list)
    mac: list[dict] = field(default_factory=list)
    lldp: dict[str, list[dict]] = field(default_factory=dict)
    error_code: str | None = None
    error: str | None = None
    driver_error: DriverError | None = None
    host_key: str | None = None  # the key the server proved it holds
    host_key_first_use: bool = False
    seconds: float = 0.0


@dataclass
class FetchTarget:
    """What a worker thread needs to reach one device: no model instances, no database."""

    key: int | str  # the Device pk (or any label: the benchmark uses names)
    platform: str
    info: ConnectionInfo | None  # None: the device cannot be reached (error says why)
    error: DriverError | None = None


def backup_targets(device_name=None, region_path=None, city_only=False):
    devices = devices_to_collect("expect_backup", device_name, region_path, city_only)
    return devices.filter(ssh_credential__isnull=False).select_related("ssh_credential", "ssh_host_key")


def fetch_target(device: Device) -> FetchTarget:
    try:
        return FetchTarget(device.pk, device.platform, connection_info(device))
    except DriverError as error:  # an unreadable credential fails this device alone
        return FetchTarget(device.pk, device.platform, None, error)


def fetch(target: FetchTarget, with_tables: bool = True) -> Fetched:
    """Everything one SSH session reads from one device. Runs in a worker thread: no database here."""
    started = time.monotonic()
    result = Fetched(target.key)
    name = target.info.name if target.info else str(target.key)
    try:
        if target.error is not None:
            raise target.error
        with open_driver(target.platform, target.info) as driver:
            result.host_key, result.host_key_first_use = driver.host_key, driver.host_key_first_use
            result.config = driver.normalise_config(driver.running_config())
            if not result.config.strip():
                raise DriverError("CONFIG_EMPTY", f"{name} answered the config command with nothing; the "
                                                  "previous version is kept. Try again, or check the account's "
                                                  "privileges on the device.")
            if with_tables:
                result.arp, result.mac = driver.get_arp_table(), driver.get_mac_address_table()
                result.lldp = driver.get_lldp_neighbors()
    except OneNetError as error:  # a driver's, or an unknown platform's
        result.error_code, result.error = error.code, str(error)
        result.driver_error = error if isinstance(error, DriverError) else None
    except Exception as error:  # noqa: BLE001 - a lying device must fail alone, with its name in the log
        result.error_code, result.error = "SSH_ERROR", f"{type(error).__name__}: {error}"
    if result.error:
        log.warning("backup %s failed: %s", name, result.error)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def fetch_many(targets: list[FetchTarget], workers: int, with_tables: bool = True) -> list[Fetched]:
    """`fetch` of every target in `workers` threads (SSH is I/O-bound); results in the targets' order."""
    if not targets:
        return []
    with ThreadPoolExecutor(max(1, min(workers, len(targets))), thread_name_prefix="backup") as pool:
        return list(pool.map(lambda target: fetch(target, with_tables), targets))


def backup_devices(device_name=None, region_path=None, city_only=False, with_tables=True) -> dict:
    started = time.monotonic()
    devices = list(backup_targets(device_name, region_path, city_only))
    fetched = fetch_many([fetch_target(d) for d in devices], settings.ONENET_BACKUP_WORKERS, with_tables)
    results = [store(device, item) for device, item in zip(devices, fetched, strict=True)]
    counts = {k: sum(1 for r in results if r["status"] == k) for k in ("changed", "unchanged", "failed")}
    return {**counts, "devices": results, "seconds": round(time.monotonic() - started, 2)}


def store(device: Device, item: Fetched) -> dict:
    now = timezone.now()
    after_session(device, item.host_key, item.host_key_first_use, item.driver_error)
    state, _ = DeviceState.objects.get_or_create(device=device)
    state.last_backup_at = now
    if item.error:
        state.backup_state, state.last_backup_error = BackupState.FAILED, item.error[:300]
        state.save(update_fields=["backup_state", "last_backup_error", "last_backup_at"])
        return {"device": device.name, "status": "failed", "code": item.error_code, "error": item.error,
                "version": None, "seconds": item.seconds}
    with transaction.atomic():
        version, changed = _store_version(device, item.config, now)
        if item.arp or item.mac or item.lldp:
            _store_tables(device, item, now)
        state.backup_state, state.last_backup_error, state.last_backup_ok_at = BackupState.OK, "", now
        state.save(update_fields=["backup_state", "last_backup_error", "last_backup_at", "last_backup_ok_at"])
    if changed:  # compliance checks the new version (policies connects to this)
        config_changed.send(sender=ConfigVersion, device=device, version=version)
    return {"device": device.name, "status": "changed" if changed else "unchanged", "version": version.pk,
            "lines_added": version.lines_added if changed else 0,
            "lines_removed": version.lines_removed if changed else 0, "seconds": item.seconds}


def _store_version(device: Device, text: str, now) -> tuple[ConfigVersion, bool]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    latest = ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").first()
    if latest is not None and latest.sha256 == digest:
        return latest, False
    diff_lines = list(difflib.unified_diff(
        (latest.text if latest else "").splitlines(), text.splitlines(),
        fromfile=diff_label(device.name, latest.fetched_at) if latest else "(none)",
        tofile=diff_label(device.name, now), lineterm=""))
    added = sum(1 for line in diff_lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff_lines if line.startswith("-") and not line.startswith("---"))
    version = ConfigVersion.objects.create(device=device, fetched_at=now, sha256=digest, text=text,
                                           diff="\n".join(diff_lines) if latest else "", lines_added=added,
                                           lines_removed=removed)
    return version, True


def _store_tables(device: Device, item: Fetched, now):
    """Replace the device's tables with what it shows now."""
    ArpEntry.objects.filter(device=device).delete()
    ArpEntry.objects.bulk_create([ArpEntry(device=device, ip=r["ip"], mac=r["mac"], interface=r["interface"][:64],
                                           seen_at=now) for r in item.arp], ignore_conflicts=True)
    MacEntry.objects.filter(device=device).delete()
    MacEntry.objects.bulk_create([MacEntry(device=device, mac=r["mac"], vlan=r["vlan"] or None,
                                           port=r["interface"][:64], seen_at=now) for r in item.mac],
                                 ignore_conflicts=True)
    LldpNeighbor.objects.filter(device=device).delete()
    LldpNeighbor.objects.bulk_create([LldpNeighbor(device=device, local_port=port[:64],
                                                   neighbor_name=n["hostname"][:120], neighbor_port=n["port"][:64],
                                                   seen_at=now)
                                      for port, neighbours in item.lldp.items() for n in neighbours],
                                     ignore_conflicts=True)
