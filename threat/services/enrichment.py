"""Where an alert's source host is: prefix → region, agency, site; ARP → MAC; MAC table → switch and port.

The collectors' tables (ArpEntry, MacEntry, filled by `manage.py backup`) answer first. When they do not know
the host yet, the devices of the host's site are asked over SSH through their platform's driver (the gateway's
ARP table, the access switches' MAC tables) and what they show is stored, as a backup would.
"""

from __future__ import annotations

import ipaddress
import logging

from django.db import close_old_connections, transaction
from django.db.models import Count, Q
from django.utils import timezone

import platforms
from collectors.models import ArpEntry, MacEntry
from inventory.choices import DeviceStatus
from inventory.models import Device, Interface, Prefix, Region
from platforms import DriverError

log = logging.getLogger(__name__)


def city_root():
    return Region.objects.filter(parent__isnull=True).order_by("pk").first()


def locate_prefix(address: str):
    """(region, agency, site) of the longest prefix holding the address; the city root when none does."""
    try:
        prefix = Prefix.objects.longest_match(address)
    except ValueError:
        prefix = None
    if prefix is None:
        return city_root(), None, None
    site = prefix.site
    agency = prefix.agency or (site.agency if site is not None and site.agency_id else None)
    region = site.region if site is not None else prefix.region
    return region, agency, site


def canonical_port(device: Device, name: str) -> str:
    """The inventory's name for a port a device showed in a table (its platform's abbreviation expanded)."""
    names = set(Interface.objects.filter(device_id=device.pk).values_list("name", flat=True))
    if not names or name in names:
        return name
    expanded = platforms.get(device.platform).expand_interface(name)
    if expanded in names:
        return expanded
    head = next((i for i, ch in enumerate(name) if ch.isdigit()), len(name))
    alpha, number = name[:head], name[head:]
    matches = [n for n in names if n.endswith(number) and n[: len(n) - len(number)].lower().startswith(alpha.lower())
               and not n[len(n) - len(number) - 1].isdigit()]
    return matches[0] if len(matches) == 1 else name


def _uplink_ports(device_ids) -> set[tuple[int, str]]:
    """(device id, port name) of ports that are ends of inventory links: uplinks, never a host's port."""
    linked = Interface.objects.filter(device_id__in=device_ids).filter(
        Q(links_as_a__isnull=False) | Q(links_as_b__isnull=False)).values_list("device_id", "name")
    return set(linked)


def host_port_from_tables(address: str) -> dict | None:
    """{mac, switch (Device), port} from the stored ARP and MAC tables, or None."""
    arp = ArpEntry.objects.filter(ip=address).order_by("-seen_at").first()
    if arp is None:
        return None
    entries = list(MacEntry.objects.filter(mac=arp.mac).select_related("device").order_by("-seen_at"))
    if not entries:
        return {"mac": arp.mac, "switch": None, "port": ""}
    uplinks = _uplink_ports({e.device_id for e in entries})
    crowded = {(d, p): n for d, p, n in MacEntry.objects.filter(device_id__in={e.device_id for e in entries})
               .values("device_id", "port").annotate(n=Count("id")).values_list("device_id", "port", "n")}

    def rank(entry):
        # A host's own port: not a link end, the fewest MACs behind it, on an access-role device.
        return ((entry.device_id, entry.port) in uplinks, crowded.get((entry.device_id, entry.raw_port), 0) > 4,
                entry.device.role != "access")

    for entry in entries:
        entry.raw_port, entry.port = entry.port, canonical_port(entry.device, entry.port)
    best = min(entries, key=rank)
    return {"mac": arp.mac, "switch": best.device, "port": best.port}


def read_site_tables(site_id: int) -> int:
    """Read ARP and MAC tables over SSH from the active devices of one site and store them; returns devices read."""
    from collectors.services.hostkeys import after_session, connection_info

    devices = list(Device.objects.filter(site_id=site_id, status=DeviceStatus.ACTIVE, ssh_credential__isnull=False)
                   .select_related("ssh_credential", "ssh_host_key").order_by("name"))
    read = 0
    for device in devices:
        try:
            with platforms.open_driver(device.platform, connection_info(device)) as driver:
                arp, macs = driver.get_arp_table(), driver.get_mac_address_table()
            after_session(device, driver.host_key, driver.host_key_first_use, None)
        except DriverError as error:
            log.warning("locating: %s: %s", device.name, error)
            after_session(device, None, False, error)
            continue
        except Exception as error:  # noqa: BLE001 - one lying device must not stop the look-up
            log.warning("locating: %s: %s: %s", device.name, type(error).__name__, error)
            continue
        now = timezone.now()
        with transaction.atomic():
            if arp:
                ArpEntry.objects.filter(device=device).delete()
                ArpEntry.objects.bulk_create([ArpEntry(device=device, ip=r["ip"], mac=r["mac"],
                                                       interface=r["interface"][:64], seen_at=now) for r in arp
                                              if _is_ip(r["ip"])], ignore_conflicts=True)
            if macs:
                MacEntry.objects.filter(device=device).delete()
                MacEntry.objects.bulk_create([MacEntry(device=device, mac=r["mac"], vlan=r["vlan"] or None,
                                                       port=r["interface"][:64], seen_at=now) for r in macs],
                                             ignore_conflicts=True)
        read += 1
    return read


def _is_ip(value) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def locate_alert(alert_id: int, ssh: bool = True, sites_read: set | None = None) -> bool:
    """Fill the alert's MAC, switch and port; True when the switch port was found.

    `sites_read` holds the sites whose devices were already asked in this run, so they are asked once.
    """
    from threat.choices import EventKind
    from threat.models import Alert, AlertEvent

    alert = Alert.objects.select_related("site").get(pk=alert_id)
    found = host_port_from_tables(alert.src)
    sites_read = set() if sites_read is None else sites_read
    if (found is None or found["switch"] is None) and ssh and alert.site_id and alert.site_id not in sites_read:
        sites_read.add(alert.site_id)
        if read_site_tables(alert.site_id):
            found = host_port_from_tables(alert.src)
    if found is None:
        return False
    alert.mac = found["mac"]
    alert.switch = found["switch"]
    alert.switch_port = found["port"][:64]
    alert.located_at = timezone.now()
    alert.save(update_fields=["mac", "switch", "switch_port", "located_at", "updated_at"])
    where = f"{alert.switch.name} {alert.switch_port}" if alert.switch else ""
    AlertEvent.objects.create(alert=alert, kind=EventKind.LOCATED, text=f"{alert.mac} {where}".strip())
    if alert.incident_id is not None:  # the incident shows where its host is
        from threat.services.incidents import refresh

        refresh(alert.incident)
    return alert.switch is not None


def locate_in_thread(alert_id: int) -> None:
    """For worker threads (the sensor's locator): own database connection, closed afterwards."""
    close_old_connections()
    try:
        locate_alert(alert_id, ssh=True)
    except Exception:  # noqa: BLE001
        log.exception("locating alert %s failed", alert_id)
    finally:
        from django.db import connection

        connection.close()
