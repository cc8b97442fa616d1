"""Each platform's pure parts: config normalising, MAC and interface-name forms both ways, table parsing."""

import pytest

import platforms
from platforms.driver import ConnectionInfo
from platforms.parsing import normalise_mac
from web.errors import OneNetError


def driver(platform):
    return platforms.open_driver(platform, ConnectionInfo("127.0.0.1", 22, "user", "secret", "test"))


@pytest.mark.parametrize("platform, text, expected", [
    ("huawei_vrp",
     "!Software Version V800R021C10SPC100\n!Last configuration was updated at 2026-11-27 10:00:01+00:00 by onenet\n"
     "!Last configuration was saved at 2026-11-27 10:00:01+00:00\n#\nsysname core-1\n#\nreturn\n",
     "#\nsysname core-1\n#\nreturn\n"),
    ("huawei_vrp", "\r\n\r\n#\r\n sysname a  \r\n#\r\nreturn\r\n\r\n", "#\n sysname a\n#\nreturn\n"),
    ("cisco_ios",
     "Building configuration...\n\nCurrent configuration : 1234 bytes\n!\n! Last configuration change at 10:00:01 "
     "UTC Fri Nov 27 2026 by onenet\n! NVRAM config last updated at 09:00:00 UTC Fri Nov 27 2026\nversion 15.2\n"
     "hostname sw1\nntp clock-period 17179869\nend\n",
     "!\nversion 15.2\nhostname sw1\nend\n"),
    ("ruijie_os",
     "Building configuration...\nCurrent configuration : 2048 bytes\n\nversion RGOS 11.4(1)B12\nhostname r1\nend\n",
     "version RGOS 11.4(1)B12\nhostname r1\nend\n"),
    ("hp_comware", "#\n version 7.1.064, Release 0821P16\n#\n sysname c1\n#\nreturn\n",
     "#\n version 7.1.064, Release 0821P16\n#\n sysname c1\n#\nreturn\n"),
])
def test_normalise_config_drops_volatile_lines(platform, text, expected):
    assert driver(platform).normalise_config(text) == expected


def test_normalise_config_is_stable_when_only_volatile_lines_change():
    vrp = driver("huawei_vrp")
    a = "!Last configuration was updated at 2026-11-27 10:00:01+00:00 by a\n#\nsysname x\n"
    b = "!Last configuration was updated at 2026-11-28 11:11:11+00:00 by b\n#\nsysname x\n"
    assert vrp.normalise_config(a) == vrp.normalise_config(b)


@pytest.mark.parametrize("raw, expected", [
    ("00e0-fc12-3456", "00:e0:fc:12:34:56"),
    ("00E0.FC12.3456", "00:e0:fc:12:34:56"),
    ("00:e0:fc:12:34:56", "00:e0:fc:12:34:56"),
    ("00-E0-FC-12-34-56", "00:e0:fc:12:34:56"),
    ("00e0fc123456", "00:e0:fc:12:34:56"),
    ("Incomplete", "incomplete"),
    ("", ""),
])
def test_normalise_mac(raw, expected):
    assert normalise_mac(raw) == expected


@pytest.mark.parametrize("platform, short, full", [
    ("huawei_vrp", "GE0/0/2", "GigabitEthernet0/0/2"),
    ("huawei_vrp", "XGE0/0/1", "XGigabitEthernet0/0/1"),
    ("huawei_vrp", "GigabitEthernet0/0/2", "GigabitEthernet0/0/2"),
    ("huawei_vrp", "Vlanif10", "Vlanif10"),
    ("huawei_vrp", "Eth-Trunk1", "Eth-Trunk1"),
    ("huawei_vrp", "40GE1/0/1", "40GE1/0/1"),
    ("hp_comware", "GE1/0/4", "GigabitEthernet1/0/4"),
    ("hp_comware", "XGE1/0/1", "Ten-GigabitEthernet1/0/1"),
    ("hp_comware", "BAGG1", "Bridge-Aggregation1"),
    ("hp_comware", "Vlan10", "Vlan-interface10"),
    ("hp_comware", "Vlan-interface10", "Vlan-interface10"),
    ("cisco_ios", "Gi0/1", "GigabitEthernet0/1"),
    ("cisco_ios", "Te1/0/1", "TenGigabitEthernet1/0/1"),
    ("cisco_ios", "Fa0/24", "FastEthernet0/24"),
    ("cisco_ios", "Po1", "Port-channel1"),
    ("cisco_ios", "Vl10", "Vlan10"),
    ("cisco_ios", "Vlan10", "Vlan10"),
    ("ruijie_os", "Gi0/1", "GigabitEthernet 0/1"),
    ("ruijie_os", "GigabitEthernet 0/1", "GigabitEthernet 0/1"),
    ("ruijie_os", "GigabitEthernet0/1", "GigabitEthernet 0/1"),
    ("ruijie_os", "Ag1", "AggregatePort 1"),
    ("cisco_ios", "", ""),
    ("cisco_ios", "Null0", "Null0"),
])
def test_expand_interface_gives_full_names(platform, short, full):
    assert platforms.get(platform).expand_interface(short) == full


@pytest.mark.parametrize("platform, full, short", [
    ("huawei_vrp", "GigabitEthernet0/0/2", "GE0/0/2"), ("huawei_vrp", "XGigabitEthernet0/0/1", "XGE0/0/1"),
    ("huawei_vrp", "Eth-Trunk1", "Eth-Trunk1"), ("hp_comware", "Ten-GigabitEthernet1/0/1", "XGE1/0/1"),
    ("hp_comware", "Bridge-Aggregation1", "BAGG1"), ("cisco_ios", "GigabitEthernet0/1", "Gi0/1"),
    ("cisco_ios", "TwentyFiveGigE1/0/1", "Twe1/0/1"), ("ruijie_os", "GigabitEthernet 0/1", "Gi0/1"),
])
def test_abbreviating_and_expanding_are_inverse(platform, full, short):
    assert platforms.get(platform).abbreviate_interface(full) == short
    assert platforms.get(platform).expand_interface(short) == full


def test_an_unknown_platform_is_a_clear_error():
    with pytest.raises(OneNetError) as error:
        platforms.driver_for("junos")
    assert error.value.code == "PLATFORM_UNKNOWN"
    assert "huawei_vrp" in str(error.value)


def test_a_platform_registered_twice_is_an_error():
    from platforms.base import register

    with pytest.raises(OneNetError, match="PLATFORM_DUPLICATE"):
        register(type(platforms.get("cisco_ios")))


VRP_ARP = """IP ADDRESS      MAC ADDRESS     EXPIRE(M) TYPE        INTERFACE      VPN-INSTANCE
                                          VLAN/CEVLAN PVC
------------------------------------------------------------------------------
10.137.217.1    00e0-fc20-5a64            I -         Vlanif10
10.137.217.10   00e0-fc12-3456  20        D-0         GE0/0/1
                                          10/-
172.31.0.2      00e0-fc42-ca5a  20        D-0         XGE0/0/0
------------------------------------------------------------------------------
Total:3         Dynamic:2       Static:0     Interface:1"""

VRP_LLDP_BRIEF = """Local Intf       Neighbor Dev             Neighbor Intf             Exptime(s)
XGE0/0/0         city-core-1              XGigabitEthernet0/0/0     104
GE0/0/2          ag-gov-office-sw1        GigabitEthernet0/1        104
GE0/0/9          ag-housing-cpe           GigabitEthernet 0/1       104"""

RGOS_ARP = """Total Numbers of Arp: 3
Protocol  Address          Age(min)  Hardware         Type   Interface
Internet  172.31.0.126     <static>  00d0.f8b0.6466   arpa   GigabitEthernet 0/1
Internet  172.31.0.125     2         00e0.fc42.ca5a   arpa   GigabitEthernet 0/1
Internet  192.168.1.2      5         0013.2040.0a26   arpa   VLAN 1"""

RGOS_MAC = """Vlan        MAC Address          Type     Interface                Live Time
---------- -------------------- -------- ------------------------ -------------
         1 3891.d5ab.52f8       DYNAMIC  GigabitEthernet 0/1      0d 00:05:23
        20 70a3.e6c8.a0cc       DYNAMIC  GigabitEthernet 0/2      0d 00:05:23"""


@pytest.mark.parametrize("platform, method, output, expected", [
    ("huawei_vrp", "parse_arp", VRP_ARP, [
        {"ip": "10.137.217.1", "mac": "00:e0:fc:20:5a:64", "interface": "Vlanif10"},
        {"ip": "10.137.217.10", "mac": "00:e0:fc:12:34:56", "interface": "GE0/0/1"},
        {"ip": "172.31.0.2", "mac": "00:e0:fc:42:ca:5a", "interface": "XGE0/0/0"}]),
    ("huawei_vrp", "parse_lldp", VRP_LLDP_BRIEF, [
        {"local_port": "XGE0/0/0", "neighbor_name": "city-core-1", "neighbor_port": "XGigabitEthernet0/0/0"},
        {"local_port": "GE0/0/2", "neighbor_name": "ag-gov-office-sw1", "neighbor_port": "GigabitEthernet0/1"},
        {"local_port": "GE0/0/9", "neighbor_name": "ag-housing-cpe", "neighbor_port": "GigabitEthernet 0/1"}]),
    ("ruijie_os", "parse_arp", RGOS_ARP, [
        {"ip": "172.31.0.126", "mac": "00:d0:f8:b0:64:66", "interface": "GigabitEthernet 0/1"},
        {"ip": "172.31.0.125", "mac": "00:e0:fc:42:ca:5a", "interface": "GigabitEthernet 0/1"},
        {"ip": "192.168.1.2", "mac": "00:13:20:40:0a:26", "interface": "VLAN 1"}]),
    ("ruijie_os", "parse_mac_table", RGOS_MAC, [
        {"mac": "38:91:d5:ab:52:f8", "vlan": 1, "port": "GigabitEthernet 0/1"},
        {"mac": "70:a3:e6:c8:a0:cc", "vlan": 20, "port": "GigabitEthernet 0/2"}]),
])
def test_tables_without_a_stock_template_are_parsed(platform, method, output, expected):
    assert getattr(driver(platform), method)(output) == expected
