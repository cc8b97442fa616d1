"""Interface discovery: names, aliases, types and speeds from the device, on a slower schedule than polling.

Interfaces are matched by ifIndex first, then by name; the inventory's own description wins over
an empty ifAlias. Device strings are capped by the SNMP client and escaped by the templates.
"""

import logging

from django.conf import settings
from django.utils import timezone

from collectors.models import DeviceState, SnmpState
from collectors.services.targets import ERROR_STATES, snmp_targets
from collectors.snmp.client import poll_many_processes
from inventory.models import Device, Interface

log = logging.getLogger(__name__)


def discover_devices(devices: list[Device]) -> dict:
    """Discover each device's system group and interfaces; a device that cannot be reached fails alone."""
    now = timezone.now()
    reachable, unreadable = snmp_targets(devices)
    discovered, failed = 0, []
    for device in devices:
        if device.pk in unreadable:  # its credential cannot be decrypted: nothing to send
            failed.append(device.name)
            state, _ = DeviceState.objects.get_or_create(device=device)
            state.last_poll_at, state.snmp_state, state.last_poll_error = now, SnmpState.ERROR, unreadable[device.pk]
            state.save(update_fields=["snmp_state", "last_poll_error", "last_poll_at"])
    results = poll_many_processes([t for _, t in reachable], processes=settings.ONENET_POLL_PROCESSES,
                                  concurrency=settings.ONENET_POLL_CONCURRENCY, op="discover") if reachable else []
    for (device, _), result in zip(reachable, results, strict=True):
        state, _ = DeviceState.objects.get_or_create(device=device)
        state.last_poll_at = now
        if not result.ok:
            failed.append(device.name)
            state.snmp_state = ERROR_STATES.get(result.error, SnmpState.ERROR)
            state.last_poll_error = (result.error_message or result.error or "")[:300]
            state.save(update_fields=["snmp_state", "last_poll_error", "last_poll_at"])
            continue
        for warning in result.warnings:
            log.warning("discover %s: %s", device.name, warning)
        _update_interfaces(device, result.interfaces)
        system = result.system or {}
        state.sys_descr = (system.get("sysDescr") or "")[:2000]
        state.sys_object_id = (system.get("sysObjectID") or "")[:120]
        state.last_discovery_at = now
        state.snmp_state, state.last_poll_error, state.last_poll_ok_at = SnmpState.UP, "", now
        state.save()
        discovered += 1
    return {"discovered": discovered, "failed": len(failed), "failed_devices": failed}


def _update_interfaces(device: Device, rows: list[dict]):
    existing = list(Interface.objects.filter(device=device))
    by_index = {i.if_index: i for i in existing if i.if_index is not None}
    by_name = {i.name: i for i in existing}
    seen_indexes = set()
    to_create, to_update = [], []
    for row in rows:
        if_index = row["ifIndex"]
        if if_index in seen_indexes:
            log.warning("discover %s: duplicate ifIndex %s ignored", device.name, if_index)
            continue
        seen_indexes.add(if_index)
        name = (row.get("ifName") or row.get("ifDescr") or f"ifIndex {if_index}")[:64]
        interface = by_index.get(if_index) or by_name.get(name)
        values = {"if_index": if_index, "speed_bps": row.get("speed_bps") or 0}
        if row.get("ifAlias"):
            values["description"] = row["ifAlias"][:255]
        if interface is None:
            if name in {i.name for i in to_create}:
                continue
            to_create.append(Interface(device=device, name=name, **values))
        elif any(getattr(interface, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(interface, k, v)
            to_update.append(interface)
    Interface.objects.bulk_create(to_create)
    Interface.objects.bulk_update(to_update, ["if_index", "speed_bps", "description"])
