"""The lab topology generator: deterministic, shaped like the real extranet."""

import ipaddress
from collections import Counter

import pytest

from lab.topology import COUNTIES, generate


def test_the_same_seed_gives_the_same_network_and_another_seed_differs():
    assert generate("demo", 7).to_inventory() == generate("demo", 7).to_inventory()
    assert generate("demo", 7).to_inventory() != generate("demo", 8).to_inventory()


@pytest.mark.parametrize("scale, low, high", [("demo", 80, 130), ("city", 3000, 4500)])
def test_scales_have_the_documented_size(scale, low, high):
    topology = generate(scale, 1)
    assert low <= len(topology.devices) <= high


def test_city_scale_has_the_real_shape():
    topology = generate("city", 1)
    roles = Counter(d.role for d in topology.devices)
    assert roles["egress"] == 1
    assert len([d for d in topology.devices if d.name.startswith("city-core-")]) == 2
    assert roles["aggregation"] == len(COUNTIES) == 8
    levels = Counter(r.level for r in topology.regions)
    assert levels["county"] == 8 and levels["township"] > 100 and levels["village"] > 1000
    city_agencies = [a for a in topology.agencies if a.region == "city"]
    assert len(city_agencies) == 120
    assert {d.platform for d in topology.devices} == {"huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"}
    assert {link.tier for link in topology.links} == {"province-city", "city-county", "county-township",
                                                     "township-village", "agency", "internet"}


def test_every_device_has_its_own_loopback_management_address():
    topology = generate("city", 1)
    addresses = [d.address for d in topology.devices]
    assert len(set(addresses)) == len(addresses)
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses)


def test_every_agency_has_a_prefix_and_every_host_sits_in_one():
    topology = generate("demo", 1)
    networks = [ipaddress.ip_network(p.prefix) for p in topology.prefixes if p.agency]
    city_agencies = {a.slug for a in topology.agencies if a.region == "city"}
    assert {p.agency for p in topology.prefixes if p.agency} >= city_agencies
    for host in topology.hosts:
        assert any(ipaddress.ip_address(host.ip) in n for n in networks), host


def test_faults_are_planted_and_recorded():
    faults = Counter(f["fault"] for f in generate("demo", 1).faults())
    for fault in ("telnet-vty", "snmp-default-community", "no-ntp", "no-syslog", "rogue-exit", "no-smb-block",
                  "snmp-timeout", "snmp-wrong-community", "counter32-only", "reboots"):
        assert faults[fault] >= 1, fault
    assert faults["rogue-exit"] == 1 and faults["no-smb-block"] == 1
