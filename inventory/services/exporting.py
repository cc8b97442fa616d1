"""Inventory export in the shape `inventory import` reads. Credentials go out without their secrets.

Strings from devices may hold control characters; they go out escaped visibly (\\x1b), which keeps a
terminal safe and the export importable (import refuses control characters).
"""

import csv
import io

import yaml

from inventory.models import Agency, Credential, Device, Interface, Link, Prefix, Region, Site, SshHostKey
from inventory.services.importing import CSV_DEVICE_COLUMNS
from web.tables import escape_controls


def _visible(value):
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {k: _visible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_visible(v) for v in value]
    return value


def export_document() -> dict:
    return _visible(_document())


def _document() -> dict:
    interfaces: dict[int, list[dict]] = {}
    for i in Interface.objects.order_by("device_id", "if_index", "name"):
        interfaces.setdefault(i.device_id, []).append(
            {"name": i.name, "if_index": i.if_index, "description": i.description, "speed_bps": i.speed_bps})
    return {
        "credentials": [{"name": c.name, "kind": c.kind, "username": c.username, "snmp_version": c.snmp_version}
                        for c in Credential.objects.all()],
        "regions": [{"slug": r.slug, "name": r.name, "level": r.level, "parent": r.parent.slug if r.parent else None}
                    for r in Region.objects.select_related("parent")],
        "agencies": [{"slug": a.slug, "name": a.name, "region": a.region.slug}
                     for a in Agency.objects.select_related("region")],
        "sites": [{"slug": s.slug, "name": s.name, "region": s.region.slug,
                   "agency": s.agency.slug if s.agency else None, "expected": s.expected}
                  for s in Site.objects.select_related("region", "agency")],
        "devices": [_device_row(d) | {"interfaces": interfaces.get(d.pk, [])} for d in _devices()],
        "links": [{"a": f"{link.a_interface.device.name}:{link.a_interface.name}",
                   "b": f"{link.b_interface.device.name}:{link.b_interface.name}",
                   "capacity_bps": link.capacity_bps, "tier": link.tier}
                  for link in Link.objects.select_related("a_interface__device", "b_interface__device")],
        "prefixes": [{"prefix": p.prefix, "agency": p.agency.slug if p.agency else None,
                      "site": p.site.slug if p.site else None, "description": p.description}
                     for p in Prefix.objects.select_related("agency", "site")],
    }


def _devices():
    return Device.objects.select_related("site", "snmp_credential", "ssh_credential", "ssh_host_key")


def _device_row(d: Device) -> dict:
    return {"name": d.name, "address": d.address, "platform": d.platform, "role": d.role, "site": d.site.slug,
            "status": d.status, "vendor": d.vendor, "model": d.model, "os_version": d.os_version,
            "snmp_credential": d.snmp_credential.name if d.snmp_credential else None,
            "ssh_credential": d.ssh_credential.name if d.ssh_credential else None,
            "snmp_port": d.snmp_port, "ssh_port": d.ssh_port,
            "expect_polling": d.expect_polling, "expect_backup": d.expect_backup,
            "ssh_host_key": _pinned_key(d)}


def _pinned_key(device: Device) -> str | None:
    try:
        return device.ssh_host_key.key or None
    except SshHostKey.DoesNotExist:
        return None


def export_yaml() -> str:
    return yaml.safe_dump(export_document(), allow_unicode=True, sort_keys=False)


def export_devices_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_DEVICE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for device in _devices():
        writer.writerow({k: ("" if v is None else v) for k, v in _visible(_device_row(device)).items()})
    return out.getvalue()
