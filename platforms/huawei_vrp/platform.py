"""Huawei VRP (versions 5 and 8): grammar, interface names, rendering, secrets, SNMP identification."""

from __future__ import annotations

import re

from hier_config import Platform as HierConfigPlatform

from platforms.acl import DENY, INBOUND, OUTBOUND, PERMIT, EgressSyntax, RuleSyntax
from platforms.base import HostAcl, Platform, register
from platforms.grammar import Abbreviations, Grammar
from platforms.huawei_vrp.driver import HuaweiVrpDriver
from platforms.secrets import VRP_COMWARE_SECRET_RULES


@register
class HuaweiVrp(Platform):
    slug = "huawei_vrp"
    name = "Huawei VRP"
    vendor = "Huawei"
    netmiko_type = "huawei"
    driver = HuaweiVrpDriver
    grammar = Grammar(
        negation="undo", separator="#", trailer="return",
        section_openers=re.compile(
            r"^(interface |acl (ipv6 )?(number |name )|user-interface |aaa$|ospf( |$)|bgp |isis( |$)|"
            r"nat address-group |ip vpn-instance |traffic (classifier|behavior|policy) |vlan \d+$|"
            r"local-user \S+ class|security-policy$|rule name |firewall zone )"),
        single_valued=re.compile(
            r"^(description|sysname|ip address(?! \S+ \S+ sub(?:$| ))|idle-timeout|protocol inbound|"
            r"authentication-mode|user privilege|shutdown|header login|clock timezone|speed|duplex|mtu|"
            r"nat outbound|local-user \S+ password|password|service-type|snmp-agent sys-info version|"
            r"ntp-service source-interface|rule \d+)(?= |$)"),
        banner_start=re.compile(r"^(?P<kind>header (?:login|shell))(?: information)? (?P<delimiter>\S)"))
    interfaces = Abbreviations((("XGE", "XGigabitEthernet"), ("GE", "GigabitEthernet"), ("Loop", "LoopBack"),
                                ("Eth", "Ethernet"), ("Tun", "Tunnel")))
    host_acls = {
        4: HostAcl(("acl number {acl}", " rule 5 deny ip source {host} 0", " rule 10 permit ip"),
                   "traffic-filter inbound acl {acl}"),
        6: HostAcl(("acl ipv6 number {acl}", " rule 5 deny ipv6 source {host}/128", " rule 10 permit ipv6"),
                   "traffic-filter inbound ipv6 acl {acl}"),
    }
    # What the egress policy reads and writes: `acl number 3100` + `rule 5 deny tcp destination-port eq 445`, bound
    # by `traffic-filter inbound|outbound acl 3100` (traffic no rule matches passes), `ip route-static 0.0.0.0 0.0.0.0
    # NEXT-HOP|INTERFACE`, `nat outbound ACL` on the interface it leaves by.
    egress = EgressSyntax(
        acl_opener=re.compile(r"^acl (?:number |name )(?P<name>\S+)"),
        rule_line=re.compile(rf"^rule(?: (?P<seq>\d+))? (?P<body>(?:{PERMIT}|{DENY})\b.*)$"),
        rules=RuleSyntax("keyword", frozenset({"logging"})),
        basic_kinds=frozenset({"basic"}), basic_numbers=((2000, 2999),),
        binding=re.compile(r"^traffic-filter (?P<direction>inbound|outbound) acl (?:name )?(?P<acl>\S+)$"),
        directions={"inbound": INBOUND, "outbound": OUTBOUND}, default_action=PERMIT, step=5, first_sequence=0,
        default_route=re.compile(r"^(?P<head>ip route-static(?: vpn-instance \S+)? 0\.0\.0\.0 (?:0\.0\.0\.0|0)) "
                                 r"(?P<rest>.+)$"),
        route_qualifiers=frozenset({"vpn-instance"}),
        nat_interface=re.compile(r"^nat outbound\b"),
        opener="acl number {acl}", named_opener="acl name {acl}", description="description {text}",
        entry="rule {seq} {rule}", inserted_entry="rule {seq} {rule}",
        deny_port="deny {protocol} destination-port eq {port}", deny_from="deny ip source {address}",
        deny_to="deny ip destination {address}", permit_rest="permit ip",
        bind={INBOUND: "traffic-filter inbound acl {acl}", OUTBOUND: "traffic-filter outbound acl {acl}"},
        named_bind={INBOUND: "traffic-filter inbound acl name {acl}",
                    OUTBOUND: "traffic-filter outbound acl name {acl}"},
        remove_rule="undo rule {seq}", placeholder_interface="GigabitEthernet0/0/1")
    hier_config = HierConfigPlatform.HUAWEI_VRP
    secret_rules = VRP_COMWARE_SECRET_RULES
    enterprise_oids = ("1.3.6.1.4.1.2011",)
    sys_descr_pattern = re.compile(r"versatile routing platform|\bvrp\b", re.IGNORECASE)
    acl_numbers = range(3900, 4000)  # advanced ACLs

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        version = model = None
        found = re.search(r"Version\s+([\d.]+)\s*\(([^)]*)\)", sys_descr)
        if found:
            inner = found.group(2).split()
            release = inner[-1] if inner else None
            version = f"{found.group(1)} ({release})" if release else found.group(1)
            if len(inner) >= 2:
                model = inner[0]
        elif found := re.search(r"Version\s+(?:VRP\s+)?([\w.()-]+)", sys_descr):  # VRP 3: "Software Version VRP 3.40"
            version = found.group(1)
        first = sys_descr.strip().splitlines()[0].strip() if sys_descr.strip() else ""
        # Quidway is Huawei's older brand: "Quidway S5700-28C-EI" on the first line, or a line of its own
        named = re.match(r"^(?:Huawei\s+|Quidway\s+)?([A-Za-z0-9][\w/+-]*?)\s*(?:Huawei\s+Versatile|$)", first)
        if named and named.group(1) and named.group(1).lower() not in ("huawei", "versatile"):
            model = named.group(1)
        elif model is None and (branded := re.search(r"^\s*Quidway\s+([\w/+-]+)\s*$", sys_descr, re.M)):
            model = branded.group(1)
        return model, version
