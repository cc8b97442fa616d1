import re

from collectors.drivers.base import normalise_mac, register
from collectors.drivers.cisco_ios import CiscoIos
from collectors.drivers.secrets import IOS_SECRET_RULES

_MAC = r"[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}"
# An RGOS interface in a table: "GigabitEthernet 0/1", "AggregatePort 1", "VLAN 10" (type, space, number).
_INTERFACE = r"[A-Za-z][A-Za-z-]*\s?\d[\d/.:]*"


@register
class RuijieOs(CiscoIos):
    """RGOS speaks an IOS-like CLI; netmiko has its own driver for the prompts and paging. ntc-templates has
    no RGOS templates and its tables differ from IOS's (ages, "GigabitEthernet 0/1"), so ARP and MAC are
    read here; `show lldp neighbors` has IOS's layout and IOS's template reads it."""

    platform = "ruijie_os"
    netmiko_type = "ruijie_os"
    arp_command = "show arp"
    mac_command = "show mac-address-table"
    templates = {"show lldp neighbors": ("cisco_ios", "show lldp neighbors")}
    secret_rules = IOS_SECRET_RULES

    def parse_arp(self, output: str) -> list[dict]:
        """`show arp`: Protocol, Address, Age(min) (or <static>), Hardware, Type, Interface."""
        rows = []
        for line in output.splitlines():
            found = re.match(rf"^\s*Internet\s+(\d+\.\d+\.\d+\.\d+)\s+\S+\s+({_MAC})\s+\S+\s+({_INTERFACE})", line)
            if found:
                rows.append({"ip": found[1], "mac": normalise_mac(found[2]), "interface": found[3]})
        return rows

    def parse_mac_table(self, output: str) -> list[dict]:
        """`show mac-address-table`: Vlan, MAC Address, Type, Interface, Live Time."""
        rows = []
        for line in output.splitlines():
            found = re.match(rf"^\s*(\d+)\s+({_MAC})\s+\S+\s+({_INTERFACE})", line)
            if found:
                rows.append({"mac": normalise_mac(found[2]), "vlan": int(found[1]), "port": found[3]})
        return rows
