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

RUIJIE = "1.3.6.1.4.1.4881"
FS = "1.3.6.1.4.1.52642"
FS_RGOS_PRODUCTS = FS + ".1.1.10.1"  # Ruijie's own product arc (4881.1.1.10.1) under FS's number
# FS products in that arc that LibreNMS's fs-ruijie definition leaves to other OSes
FS_NOT_RGOS = tuple(f"{FS_RGOS_PRODUCTS}.{n}" for n in (514, 516, 805))


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
    # Ruijie's enterprise number, and the product arc under FS.COM's where FS sells RGOS switches as its own
    # ("FS Campus Switch ..."), as LibreNMS's ruijie and fs-ruijie OS definitions say.
    enterprise_oids = (RUIJIE, FS_RGOS_PRODUCTS)
    sys_descr_pattern = re.compile(r"ruijie|rgos", re.IGNORECASE)
    object_id_suffices = True

    def owns_object_id(self, oid: str | None, sys_descr: str = "") -> bool:
        return super().owns_object_id(oid, sys_descr) and not any(
            oid == other or oid.startswith(other + ".") for other in FS_NOT_RGOS)

    def vendor_for(self, sys_descr: str, sys_object_id: str | None = None) -> str:
        if (sys_object_id or "").startswith(FS + ".") or re.search(r"\bFS\.COM\b", sys_descr, re.IGNORECASE):
            return "FS.COM"
        return self.vendor

    def identity_oids(self, sys_object_id: str | None) -> dict[str, str]:
        # RUIJIE-SYSTEM-MIB, mirrored as FS-SYSTEM-MIB under FS's number on its RGOS builds: the software version
        # ("S3410_FSOS 11.4(1)B74T3") and the device type, which an FS sysDescr does not carry.
        enterprise = FS if (sys_object_id or "").startswith(FS + ".") else RUIJIE
        return {"os_version": f"{enterprise}.1.1.10.2.1.1.2.0", "model": f"{enterprise}.1.1.10.2.1.1.26.0"}

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        version = model = None
        if found := re.search(r"RGOS\s+([\w.()-]+)", sys_descr) or re.search(r"Version\s+([\w.()-]+)", sys_descr):
            version = found.group(1)
        if found := re.search(r"\(([A-Z]{1,4}\d{2,5}[\w/+-]*)\)", sys_descr):
            model = found.group(1)
        return model, version
