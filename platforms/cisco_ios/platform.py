"""Cisco IOS and IOS XE: grammar, interface names, rendering, secrets, SNMP identification."""

from __future__ import annotations

import re

from hier_config import Platform as HierConfigPlatform

from platforms import ios_family
from platforms.base import Platform, register
from platforms.cisco_ios.driver import CiscoIosDriver
from platforms.grammar import Abbreviations, Grammar
from platforms.secrets import IOS_SECRET_RULES

IOS_SECTION_OPENERS = (r"^(interface |ip access-list |ipv6 access-list |line (vty|con|aux) |router |archive$|"
                       r"class-map |policy-map |crypto |ip dhcp pool |vlan \d+$|control-plane$|key chain |"
                       r"tacacs server |radius server |aaa group server )")


@register
class CiscoIos(Platform):
    slug = "cisco_ios"
    name = "Cisco IOS"
    vendor = "Cisco"
    netmiko_type = "cisco_ios"
    driver = CiscoIosDriver
    grammar = Grammar(
        negation="no", separator="!", trailer="end",
        section_openers=re.compile(IOS_SECTION_OPENERS),
        single_valued=ios_family.SINGLE_VALUED, banner_start=ios_family.BANNER_START, noise=ios_family.NOISE)
    interfaces = Abbreviations((("Twe", "TwentyFiveGigE"), ("Gi", "GigabitEthernet"), ("Te", "TenGigabitEthernet"),
                                ("Fa", "FastEthernet"), ("Fo", "FortyGigabitEthernet"), ("Hu", "HundredGigE"),
                                ("Tw", "TwoGigabitEthernet"), ("Et", "Ethernet"), ("Po", "Port-channel"),
                                ("Lo", "Loopback"), ("Vl", "Vlan"), ("Tu", "Tunnel")))
    host_acls = ios_family.HOST_ACLS
    egress = ios_family.EGRESS
    hier_config = HierConfigPlatform.CISCO_IOS
    secret_rules = IOS_SECRET_RULES
    enterprise_oids = ("1.3.6.1.4.1.9",)
    sys_descr_pattern = re.compile(r"cisco ios|internetwork operating system|ios-xe|\bios\b", re.IGNORECASE)
    model_from_entity_mib = True
    other_cisco_os = re.compile(r"nx-os|ios xr|ios-xr|adaptive security", re.IGNORECASE)

    def names_os(self, sys_descr: str) -> bool:
        return super().names_os(sys_descr) and not self.other_cisco_os.search(sys_descr)

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        version = model = None
        if found := re.search(r"Version\s+([^\s,]+)", sys_descr):
            version = found.group(1).rstrip(",")
        found = re.search(r"(?:IOS(?:-XE)? Software(?: \[[^\]]*\])?|IOS \(tm\))[,\s]+([\w-]+)\s+Software", sys_descr)
        if found:
            model = found.group(1)
        return model, version
