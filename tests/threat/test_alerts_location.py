"""Locating an alert's host against the REAL lab: prefix → agency and site, ARP → MAC, MAC table → switch port.

The lab's SSH devices answer for real (tests/conftest.py `lab`); nothing here is mocked.
"""

import pytest

from collectors.models import ArpEntry, MacEntry
from collectors.services.backup import backup_devices
from threat.models import Alert
from threat.services.alerts import ingest_alerts
from threat.services.enrichment import host_port_from_tables

pytestmark = [pytest.mark.django_db, pytest.mark.lab]


def _host(lab, ip):
    return next(h for h in lab.hosts if h.ip == ip)


def _row(src):
    return {"kind": "smb-scan", "severity": "high", "src": src, "dst": None, "dport": 445,
            "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:09Z", "count": 40,
            "evidence": ["40 distinct hosts reached on TCP/445"]}


@pytest.mark.parametrize("ip", ["10.20.1.14", "10.1.8.14"])
def test_with_empty_tables_the_lab_devices_are_read_over_ssh_and_the_switch_port_found(lab_inventory, ip):
    host = _host(lab_inventory, ip)
    assert not ArpEntry.objects.exists()
    ingest_alerts([_row(ip)], "pcap", locate=True, ssh=True)
    alert = Alert.objects.select_related("switch", "agency", "site").get()
    assert alert.agency.slug == host.agency and alert.site.slug == host.site
    assert (alert.mac, alert.switch.name, alert.switch_port) == (host.mac, host.switch, host.port)
    assert alert.located_at is not None
    # What the devices showed is stored, as a backup would have.
    assert ArpEntry.objects.filter(ip=ip, mac=host.mac).exists()
    assert MacEntry.objects.filter(mac=host.mac, device__name=host.switch).exists()


def test_after_a_backup_the_port_comes_from_the_collectors_tables_and_not_the_uplink(lab_inventory):
    host = _host(lab_inventory, "10.20.1.13")
    result = backup_devices(device_name=host.gateway)
    assert result["failed"] == 0
    backup_devices(device_name=host.switch)
    found = host_port_from_tables(host.ip)
    assert (found["mac"], found["switch"].name, found["port"]) == (host.mac, host.switch, host.port)
    ingest_alerts([_row(host.ip)], "pcap", locate=True, ssh=False)
    alert = Alert.objects.get()
    assert (alert.switch.name, alert.switch_port) == (host.switch, host.port)


def test_an_address_no_device_knows_stays_unlocated_but_keeps_its_agency(lab_inventory):
    ingest_alerts([_row("10.20.1.200")], "pcap", locate=True, ssh=True)
    alert = Alert.objects.get()
    assert alert.agency.slug == "beiling-t01-gov"
    assert alert.switch is None and alert.switch_port == "" and alert.mac == ""


@pytest.mark.parametrize(("line", "expected"), [
    ("10.1.8.14       70da-70e6-720f  20        D-0         GE0/0/2", ("10.1.8.14", "70:da:70:e6:72:0f", "GE0/0/2")),
    ("172.31.0.94     00e0-fcb3-4378            I -         GE0/0/1", ("172.31.0.94", "00:e0:fc:b3:43:78", "GE0/0/1")),
    ("Internet  10.1.0.12   12   7020.823c.fde6  ARPA   GigabitEthernet0/1",
     ("10.1.0.12", "70:20:82:3c:fd:e6", "GigabitEthernet0/1")),
    ("10.1.2.12       7020-823c-fde6 1        GE1/0/2                  20    D",
     ("10.1.2.12", "70:20:82:3c:fd:e6", "GE1/0/2")),
    ("IP ADDRESS      MAC ADDRESS     EXPIRE(M) TYPE        INTERFACE", None),
    ("Total:7         Dynamic:5       Static:0     Interface:2", None),
])
def test_arp_tables_the_driver_template_missed_are_read_from_the_text(line, expected):
    from platforms.parsing import arp_from_text

    rows = arp_from_text(line)
    assert rows == ([] if expected is None else [dict(zip(("ip", "mac", "interface"), expected, strict=True))])
