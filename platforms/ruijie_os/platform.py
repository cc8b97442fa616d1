"""Ruijie RGOS: an IOS-like CLI with its own names ("GigabitEthernet 0/1"), tables and identification."""

from __future__ import annotations

import re
from dataclasses import replace

from hier_config import Platform as HierConfigPlatform

from platforms import ios_family
from platforms.base import Platform, register
from platforms.grammar import Abbreviations, Grammar
from platforms.ruijie_os.driver import RuijieOsDriver
from platforms.secrets import IOS_SECRET_RULES


@register
class RuijieOs(Platform):
    slug = "ruijie_os"
    name = "Ruijie RGOS"
    vendor = "Ruijie"
    netmiko_type = "ruijie_os"
    driver = RuijieOsDriver
    grammar = Grammar(
        negation="no", separator="!", trailer="end",
        section_openers=re.compile(
            r"^(interface |ip access-list |ipv6 access-list |line (vty|con|aux) |router |class-map |policy-map |"
            r"crypto |ip dhcp pool |vlan \d+$|key chain )"),
        single_valued=ios_family.SINGLE_VALUED, banner_start=ios_family.BANNER_START, noise=ios_family.NOISE)
    # RGOS writes a space between the type and the number.
    interfaces = Abbreviations((("Gi", "GigabitEthernet"), ("Te", "TenGigabitEthernet"), ("Fa", "FastEthernet"),
                                ("Ag", "AggregatePort"), ("Lo", "Loopback"), ("Vl", "VLAN"), ("Tu", "Tunnel")),
                               spaced=True)
    host_acls = ios_family.HOST_ACLS
    egress = replace(ios_family.EGRESS, placeholder_interface="GigabitEthernet 0/1")  # IOS's, with RGOS's names
    hier_config = HierConfigPlatform.CISCO_IOS
    secret_rules = IOS_SECRET_RULES
    enterprise_oids = ("1.3.6.1.4.1.4881",)
    sys_descr_pattern = re.compile(r"ruijie|rgos", re.IGNORECASE)
    object_id_suffices = True

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        version = model = None
        if found := re.search(r"RGOS\s+([\w.()-]+)", sys_descr) or re.search(r"Version\s+([\w.()-]+)", sys_descr):
            version = found.group(1)
        if found := re.search(r"\(([A-Z]{1,4}\d{2,5}[\w/+-]*)\)", sys_descr):
            model = found.group(1)
        return model, version
