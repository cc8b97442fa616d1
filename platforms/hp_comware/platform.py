"""H3C / HPE Comware (5 and 7): grammar, interface names, rendering, secrets, SNMP identification."""

from __future__ import annotations

import re

from hier_config import Platform as HierConfigPlatform

from platforms.acl import DENY, INBOUND, OUTBOUND, PERMIT, EgressSyntax, RuleSyntax
from platforms.base import HostAcl, Platform, register
from platforms.grammar import Abbreviations, Grammar
from platforms.hp_comware.driver import HpComwareDriver
from platforms.secrets import VRP_COMWARE_SECRET_RULES

HP_ENTERPRISE = "1.3.6.1.4.1.11"  # HP A-series (ex-3Com/H3C) switches sometimes carry HP's number


@register
class HpComware(Platform):
    slug = "hp_comware"
    name = "H3C Comware"
    vendor = "H3C"
    netmiko_type = "hp_comware"
    driver = HpComwareDriver
    grammar = Grammar(
        negation="undo", separator="#", trailer="return",
        section_openers=re.compile(
            r"^(interface |acl (number |advanced |basic |name |ipv6 (advanced |basic ))|line (vty|con|class) |"
            r"user-interface |ospf( |$)|bgp |local-user |domain |vlan \d+$|nat address-group |"
            r"traffic (classifier|behavior) |qos policy |radius scheme |hwtacacs scheme )"),
        single_valued=re.compile(
            r"^(description|sysname|ip address(?! \S+ \S+ sub(?:$| ))|idle-timeout|protocol inbound|"
            r"authentication-mode|user-role|service-type|shutdown|header login|clock timezone|speed|duplex|mtu|"
            r"nat outbound|password|snmp-agent sys-info version|ntp-service source-interface|rule \d+)(?= |$)"),
        banner_start=re.compile(r"^(?P<kind>header (?:login|shell|motd|incoming)) (?P<delimiter>\S)"),
        indent_globals=True)
    interfaces = Abbreviations((("BAGG", "Bridge-Aggregation"), ("RAGG", "Route-Aggregation"),
                                ("MGE", "M-GigabitEthernet"), ("XGE", "Ten-GigabitEthernet"), ("FGE", "FortyGigE"),
                                ("HGE", "HundredGigE"), ("WGE", "TwentyGigE"), ("GE", "GigabitEthernet"),
                                ("Vlan", "Vlan-interface"), ("Loop", "LoopBack"), ("Tun", "Tunnel")))
    host_acls = {
        4: HostAcl(("acl advanced {acl}", " rule 5 deny ip source {host} 0", " rule 10 permit ip"),
                   "packet-filter {acl} inbound"),
        6: HostAcl(("acl ipv6 advanced {acl}", " rule 5 deny ipv6 source {host} 128", " rule 10 permit ipv6"),
                   "packet-filter ipv6 {acl} inbound"),
    }
    # What the egress policy reads and writes: `acl advanced 3100` + `rule 5 deny tcp destination-port eq 445`, bound
    # by `packet-filter 3100 inbound|outbound` (traffic no rule matches passes, unless `packet-filter default deny`),
    # `ip route-static 0.0.0.0 0 NEXT-HOP|INTERFACE`, `nat outbound [ACL]` on the interface it leaves by.
    egress = EgressSyntax(
        acl_opener=re.compile(r"^acl (?P<kind>number|advanced|basic)(?: name)? (?P<name>\S+)"),
        rule_line=re.compile(rf"^rule(?: (?P<seq>\d+))? (?P<body>(?:{PERMIT}|{DENY})\b.*)$"),
        rules=RuleSyntax("keyword", frozenset({"logging", "counting"})),
        basic_kinds=frozenset({"basic"}), basic_numbers=((2000, 2999),),
        binding=re.compile(r"^packet-filter (?:name )?(?!ipv6 )(?P<acl>\S+) (?P<direction>inbound|outbound)\b"),
        directions={"inbound": INBOUND, "outbound": OUTBOUND}, default_action=PERMIT, step=5, first_sequence=0,
        default_deny=re.compile(r"^packet-filter default deny\b"),
        default_route=re.compile(r"^(?P<head>ip route-static(?: vpn-instance \S+)? 0\.0\.0\.0 (?:0\.0\.0\.0|0)) "
                                 r"(?P<rest>.+)$"),
        route_qualifiers=frozenset({"vpn-instance"}),
        nat_interface=re.compile(r"^nat outbound\b"),
        opener="acl advanced {acl}", named_opener="acl advanced name {acl}", description="description {text}",
        entry="rule {seq} {rule}", inserted_entry="rule {seq} {rule}",
        deny_port="deny {protocol} destination-port eq {port}", deny_from="deny ip source {address}",
        deny_to="deny ip destination {address}", permit_rest="permit ip",
        bind={INBOUND: "packet-filter {acl} inbound", OUTBOUND: "packet-filter {acl} outbound"},
        named_bind={INBOUND: "packet-filter name {acl} inbound", OUTBOUND: "packet-filter name {acl} outbound"},
        remove_rule="undo rule {seq}", placeholder_interface="GigabitEthernet1/0/1")
    hier_config = HierConfigPlatform.HP_COMWARE5
    secret_rules = VRP_COMWARE_SECRET_RULES
    enterprise_oids = ("1.3.6.1.4.1.25506",)
    sys_descr_pattern = re.compile(r"comware", re.IGNORECASE)
    # Everything under H3C's number runs Comware (LibreNMS's comware definition), also when the sysDescr never says
    # so (HP's V1910: "HP V1910-24G Switch Software Version 5.20, ..."); HP's own number needs the word (below).
    object_id_suffices = True
    acl_numbers = range(3900, 4000)  # advanced ACLs

    def owns_object_id(self, oid: str | None, sys_descr: str = "") -> bool:
        if oid and (oid == HP_ENTERPRISE or oid.startswith(HP_ENTERPRISE + ".")):
            return self.names_os(sys_descr)
        return super().owns_object_id(oid, sys_descr)

    def vendor_for(self, sys_descr: str, sys_object_id: str | None = None) -> str:
        text = sys_descr.lower()
        if "hewlett" in text or re.search(r"\bhpe?\b", text):
            return "HPE" if re.search(r"\bhpe\b|hewlett packard enterprise", text) else "HP"
        return "H3C"

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        version = model = None
        if found := re.search(r"Software Version\s+([\w.]+)", sys_descr):
            version = found.group(1)
        # HP's V19x0 name the model first: "HP V1910-24G-PoE (365W) Switch Software Version 5.20, Release 1513P95"
        if found := re.match(r"\s*(?:HPE|HP|H3C)\s+(.+?)\s+(?:Switch|Router)\s+Software Version\b", sys_descr):
            return found.group(1), version
        found = re.search(r"Release\s+\S+\s+(.+?)(?:\s+Switch\b|\s+Router\b|\s*Copyright|\r|\n|$)", sys_descr, re.S)
        if found:
            candidate = found.group(1).strip().splitlines()[0].strip() if found.group(1).strip() else ""
            candidate = re.sub(r"^(?:HPE|HP|H3C|Hewlett[- ]Packard(?: Enterprise)?)\s+", "", candidate)
            if candidate and not candidate.lower().startswith("copyright"):
                model = " ".join(candidate.split()) or None
        return model, version
