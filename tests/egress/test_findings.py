"""egress.* findings from crafted configs, per platform: the block judged rule by rule with first-match semantics,
rogue default routes and NAT, each failure naming its lines, and remediation that, applied, makes the check pass."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

import pytest

import platforms
from egress.services import DeviceContext, InterfaceContext, default_policy, device_findings
from egress.services.checks import NO_ROGUE_DEFAULT_ROUTE, NO_ROGUE_NAT, SMB_BLOCKED
from tests.egress.configs import (
    BLOCK_KEYWORD,
    BLOCK_POSITIONAL,
    KEYWORD,
    LAN,
    PLATFORMS,
    SPARE,
    UPLINK,
    config,
    context,
    line_of,
)
from web.errors import OneNetError

TRAFFIC = ("TCP 135", "TCP 139", "TCP 445", "UDP 137", "UDP 138")
DIRECTIONS = ("inbound", "outbound")
EVERYTHING = frozenset((d, t) for d in DIRECTIONS for t in TRAFFIC)


def both(*traffic) -> frozenset:
    return frozenset((d, t) for d in DIRECTIONS for t in traffic)


def findings(platform, text, role="aggregation", ctx="default", policy=None) -> dict:
    ctx = context(platform, role) if ctx == "default" else ctx
    return {f.rule: f for f in device_findings(platform, text, role, ctx, policy)}


def fixed(platform: str, text: str, remediation: list[str]) -> str:
    """The config after the remediation lines are applied, as the device would print it."""
    return platforms.get(platform).parse(text).apply_lines(remediation).render()


@dataclass(frozen=True)
class BlockCase:
    name: str
    keyword: list[str]  # VRP and Comware rules
    positional: list[str]  # IOS and RGOS entries
    not_enforced: frozenset = frozenset()
    deciding: tuple[str | None, str | None] = (None, None)  # the rule that lets it through, in each style
    partial: bool = False
    directions: tuple[str, ...] = DIRECTIONS
    positional_not_enforced: frozenset | None = None  # when IOS/RGOS differ (their implicit deny)

    def expected(self, platform) -> frozenset:
        if platform not in KEYWORD and self.positional_not_enforced is not None:
            return self.positional_not_enforced
        return self.not_enforced


def _without(rules, fragment):
    return [r for r in rules if fragment not in r]


def _replace(rules, old, new):
    return [r.replace(old, new) for r in rules]


BLOCK_CASES = [
    BlockCase("a block that works", BLOCK_KEYWORD, BLOCK_POSITIONAL),
    BlockCase("an earlier permit of everything defeats every deny",
              ["rule 1 permit ip", *BLOCK_KEYWORD], ["permit ip any any", *BLOCK_POSITIONAL], EVERYTHING,
              ("rule 1 permit ip", "permit ip any any")),
    BlockCase("an earlier permit of part of TCP 445 defeats its deny partly",
              ["rule 1 permit tcp source 10.0.0.0 0.255.255.255 destination-port eq 445", *BLOCK_KEYWORD],
              ["permit tcp 10.0.0.0 0.255.255.255 any eq 445", *BLOCK_POSITIONAL], both("TCP 445"),
              ("rule 1 permit tcp source 10.0.0.0 0.255.255.255 destination-port eq 445",
               "permit tcp 10.0.0.0 0.255.255.255 any eq 445"), partial=True),
    BlockCase("an earlier permit of a port range defeats the ports in it",
              ["rule 1 permit tcp destination-port range 130 140", *BLOCK_KEYWORD],
              ["permit tcp any any range 130 140", *BLOCK_POSITIONAL], both("TCP 135", "TCP 139"),
              ("rule 1 permit tcp destination-port range 130 140", "permit tcp any any range 130 140")),
    BlockCase("an earlier permit with a time range still defeats the block",
              ["rule 1 permit ip time-range office-hours", *BLOCK_KEYWORD],
              ["permit ip any any time-range office-hours", *BLOCK_POSITIONAL], EVERYTHING,
              ("rule 1 permit ip time-range office-hours", "permit ip any any time-range office-hours"), partial=True),
    BlockCase("an earlier permit of established TCP lets part of each TCP port through",
              ["rule 1 permit tcp established", *BLOCK_KEYWORD], ["permit tcp any any established", *BLOCK_POSITIONAL],
              both("TCP 135", "TCP 139", "TCP 445"),
              ("rule 1 permit tcp established", "permit tcp any any established"), partial=True),
    BlockCase("applied in one direction only", BLOCK_KEYWORD, BLOCK_POSITIONAL,
              frozenset(("outbound", t) for t in TRAFFIC), directions=("inbound",)),
    BlockCase("bound in no direction", BLOCK_KEYWORD, BLOCK_POSITIONAL, EVERYTHING, directions=()),
    BlockCase("a port with no deny is not enforced", _without(BLOCK_KEYWORD, "eq 139"),
              _without(BLOCK_POSITIONAL, "eq 139"), both("TCP 139"), ("rule 30 permit ip", "permit ip any any")),
    BlockCase("a UDP port denied only for TCP is not enforced", _replace(BLOCK_KEYWORD, "udp destination-port eq 137",
                                                                         "tcp destination-port eq 137"),
              _replace(BLOCK_POSITIONAL, "udp any any eq 137", "tcp any any eq 137"), both("UDP 137"),
              ("rule 30 permit ip", "permit ip any any")),
    BlockCase("a deny of part of the traffic leaves the rest to the permit below",
              _replace(BLOCK_KEYWORD, "deny tcp destination-port eq 445",
                       "deny tcp source 10.0.0.0 0.255.255.255 destination-port eq 445"),
              _replace(BLOCK_POSITIONAL, "deny tcp any any eq 445", "deny tcp 10.0.0.0 0.255.255.255 any eq 445"),
              both("TCP 445"), ("rule 30 permit ip", "permit ip any any")),
    BlockCase("a deny above a permit of the same port wins",
              ["rule 1 deny tcp destination-port eq 445", "rule 2 permit tcp destination-port eq 445", *BLOCK_KEYWORD],
              ["deny tcp any any eq 445", "permit tcp any any eq 445", *BLOCK_POSITIONAL]),
    BlockCase("a permit wholly below an earlier partial deny decides nothing",
              ["rule 1 deny tcp source 10.0.0.0 0.255.255.255 destination-port eq 445",
               "rule 2 permit tcp source 10.1.0.0 0.0.255.255 destination-port eq 445", *BLOCK_KEYWORD],
              ["deny tcp 10.0.0.0 0.255.255.255 any eq 445", "permit tcp 10.1.0.0 0.0.255.255 any eq 445",
               *BLOCK_POSITIONAL]),
    BlockCase("port ranges deny each port in them",
              ["rule 5 deny tcp destination-port range 135 139", "rule 10 deny tcp destination-port eq 445",
               "rule 15 deny udp destination-port range 137 138", "rule 20 permit ip"],
              ["deny tcp any any range 135 139", "deny tcp any any eq 445", "deny udp any any range 137 138",
               "permit ip any any"]),
    BlockCase("with no permit at the end IOS's implicit deny blocks, VRP's and Comware's filters pass",
              ["rule 5 permit tcp destination-port eq 80", "rule 10 permit tcp destination-port eq 443"],
              ["permit tcp any any eq 80", "permit tcp any any eq 443"], EVERYTHING,
              positional_not_enforced=frozenset()),
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("case", BLOCK_CASES, ids=lambda c: c.name)
def test_the_block_is_judged_by_first_match(platform, case):
    rules = case.keyword if platform in KEYWORD else case.positional
    text = config(platform, rules, case.directions)
    for ctx in ("default", None):  # with the inventory's links, and offline (the uplink is where the route leaves)
        finding = findings(platform, text, ctx=ctx)[SMB_BLOCKED]
        expected = case.expected(platform)
        assert finding.status == ("fail" if expected else "pass"), finding.message
        assert {d["interface"] for d in finding.details} == {UPLINK[platform]}
        assert {(d["direction"], d["traffic"]) for d in finding.details if not d["enforced"]} == expected
    deciding = case.deciding[0 if platform in KEYWORD else 1]
    for detail in (d for d in finding.details if not d["enforced"]):
        if deciding is None or detail["direction"] not in case.directions:
            assert detail["rule"] is None
        else:  # the rule that defeats the block, by its line
            assert detail["rule"] == [line_of(text, deciding), deciding]
            assert detail["partial"] == case.partial
            assert f"(line {line_of(text, deciding)})" in finding.message
            assert (line_of(text, deciding), deciding) in finding.evidence
    if expected:
        assert finding.remediation
        again = findings(platform, fixed(platform, text, finding.remediation))[SMB_BLOCKED]
        assert again.status == "pass", (finding.remediation, again.message)
    else:
        assert finding.remediation == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_missing_binding_is_bound_to_the_acl_that_already_blocks(platform):
    text = config(platform, BLOCK_KEYWORD if platform in KEYWORD else BLOCK_POSITIONAL, ("inbound",))
    remediation = findings(platform, text)[SMB_BLOCKED].remediation
    binding = {"huawei_vrp": "traffic-filter outbound acl 3100", "hp_comware": "packet-filter 3100 outbound"}.get(
        platform, "ip access-group SMB-BLOCK out")
    assert remediation == [f"interface {UPLINK[platform]}", f" {binding}"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_acl_at_all_gets_onenets_block_bound_both_ways(platform):
    text = config(platform, None, ())
    finding = findings(platform, text)[SMB_BLOCKED]
    assert finding.status == "fail" and "no ACL is bound" in finding.message
    p = platforms.get(platform)
    acl = p.acl_for(p.parse(text), p.egress.acl_label)
    assert finding.remediation == p.render_egress_block([UPLINK[platform]], acl, [(b.protocol, b.port) for b in
                                                                                  default_policy().blocked_ports])
    assert findings(platform, fixed(platform, text, finding.remediation))[SMB_BLOCKED].status == "pass"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_acl_bound_but_not_defined_blocks_nothing_and_gets_defined(platform):
    text = config(platform, None)
    finding = findings(platform, text)[SMB_BLOCKED]
    assert finding.status == "fail" and "not defined" in finding.message
    assert all(not d["enforced"] for d in finding.details)
    assert findings(platform, fixed(platform, text, finding.remediation))[SMB_BLOCKED].status == "pass"


def test_a_crowded_acl_is_renumbered_to_make_room_above_the_permit():
    vrp = config("huawei_vrp", ["rule 0 permit ip", "rule 1 deny tcp destination-port eq 445"])
    remediation = findings("huawei_vrp", vrp)[SMB_BLOCKED].remediation
    assert remediation[:3] == ["acl number 3100", " undo rule 0", " undo rule 1"]
    assert remediation[-2:] == [" rule 30 permit ip", " rule 35 deny tcp destination-port eq 445"]
    assert findings("huawei_vrp", fixed("huawei_vrp", vrp, remediation))[SMB_BLOCKED].status == "pass"
    ios = config("cisco_ios", ["1 permit ip any any", "2 deny tcp any any eq 445"])
    remediation = findings("cisco_ios", ios)[SMB_BLOCKED].remediation
    assert remediation[:2] == ["ip access-list resequence SMB-BLOCK 60 60", "ip access-list extended SMB-BLOCK"]
    assert remediation[2:] == [" 1 deny tcp any any eq 135", " 2 deny tcp any any eq 139", " 3 deny tcp any any eq 445",
                               " 4 deny udp any any eq 137", " 5 deny udp any any eq 138"]


def test_ios_numbered_acls_and_standard_acls_are_read():
    text = config("cisco_ios", None, lines=["access-list 101 deny tcp any any eq 135",
                                            "access-list 101 deny tcp any any range 139 139",
                                            "access-list 101 deny tcp any any eq 445 log",
                                            "access-list 101 deny udp any any range netbios-ns netbios-dgm",
                                            "access-list 101 permit ip any any"]).replace("SMB-BLOCK", "101")
    assert findings("cisco_ios", text)[SMB_BLOCKED].status == "pass"
    standard = text.replace("access-list 101 ", "access-list 10 ").replace("group 101", "group 10")
    finding = findings("cisco_ios", standard)[SMB_BLOCKED]
    assert finding.status == "fail"  # a standard ACL matches source addresses only: its first permit passes all
    assert finding.remediation[-5:] == ["interface GigabitEthernet0/1", " no ip access-group 10 in",
                                        " no ip access-group 10 out", " ip access-group ONENET-EGRESS in",
                                        " ip access-group ONENET-EGRESS out"]
    assert "ip access-list extended ONENET-EGRESS" in finding.remediation
    assert findings("cisco_ios", fixed("cisco_ios", standard, finding.remediation))[SMB_BLOCKED].status == "pass"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_direction_left_unbound_is_bound_to_the_acl_the_remediation_completes(platform):
    rules = ["rule 1 permit ip", *BLOCK_KEYWORD] if platform in KEYWORD else ["permit ip any any", *BLOCK_POSITIONAL]
    text = config(platform, rules, ("inbound",))
    remediation = findings(platform, text)[SMB_BLOCKED].remediation
    binding = {"huawei_vrp": "traffic-filter outbound acl 3100", "hp_comware": "packet-filter 3100 outbound"}.get(
        platform, "ip access-group SMB-BLOCK out")
    assert remediation[-2:] == [f"interface {UPLINK[platform]}", f" {binding}"]
    assert not any("ONENET-EGRESS" in line or "3900" in line for line in remediation)
    assert findings(platform, fixed(platform, text, remediation))[SMB_BLOCKED].status == "pass"


def test_comware_packet_filter_default_deny_blocks_what_no_rule_matches():
    rules = ["rule 5 permit tcp destination-port eq 80"]
    assert findings("hp_comware", config("hp_comware", rules))[SMB_BLOCKED].status == "fail"
    text = config("hp_comware", rules, lines=["packet-filter default deny"])
    assert findings("hp_comware", text)[SMB_BLOCKED].status == "pass"


def test_blocked_prefixes_are_denied_both_ways_too():
    policy = replace(default_policy(), blocked_prefixes=(ipaddress.IPv4Network("203.0.113.0/24"),))
    text = config("huawei_vrp", ["rule 1 deny ip source 203.0.113.0 0.0.0.255", *BLOCK_KEYWORD])
    finding = findings("huawei_vrp", text, policy=policy)[SMB_BLOCKED]
    assert finding.status == "fail"
    assert {(d["direction"], d["traffic"]) for d in finding.details if not d["enforced"]} == \
        both("to 203.0.113.0/24")
    assert finding.remediation == ["acl number 3100", " rule 26 deny ip destination 203.0.113.0 0.0.0.255"]
    assert findings("huawei_vrp", fixed("huawei_vrp", text, finding.remediation), policy=policy)[SMB_BLOCKED] \
        .status == "pass"
    ios = config("cisco_ios", ["deny ip 203.0.113.0 0.0.0.255 any", "deny ip any 203.0.113.0 0.0.0.255",
                               *BLOCK_POSITIONAL])
    assert findings("cisco_ios", ios, policy=policy)[SMB_BLOCKED].status == "pass"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_block_is_not_applicable_where_the_policy_does_not_enforce_it(platform):
    found = findings(platform, config(platform, None, ()), role="access")
    assert found[SMB_BLOCKED].status == "not_applicable"


def test_an_egress_blocks_on_its_internet_links_and_its_exits_are_approved():
    text = config("huawei_vrp", None, (), interfaces=[("GigabitEthernet0/0/3", [
        "ip address 198.51.100.2 255.255.255.252", "traffic-filter inbound acl 3100",
        "traffic-filter outbound acl 3100", "nat outbound 3001"])],
        lines=["acl number 3001", " rule 5 permit ip source 10.0.0.0 0.255.255.255",
               "ip route-static 0.0.0.0 0.0.0.0 198.51.100.1"], default_route=False).replace(
        "#\ninterface GigabitEthernet0/0/1", "#\nacl number 3100\n" + "\n".join(f" {r}" for r in BLOCK_KEYWORD)
        + "\n#\ninterface GigabitEthernet0/0/1")
    ctx = DeviceContext("egress-1", "egress", (
        InterfaceContext("GigabitEthernet0/0/1", "city-county", "core-1", True, False),
        InterfaceContext("GigabitEthernet0/0/3", "internet", "isp-pe", False, False)))
    found = findings("huawei_vrp", text, role="egress", ctx=ctx)
    assert found[SMB_BLOCKED].status == "pass"
    assert {d["interface"] for d in found[SMB_BLOCKED].details} == {"GigabitEthernet0/0/3"}
    assert found[NO_ROGUE_DEFAULT_ROUTE].status == found[NO_ROGUE_NAT].status == "not_applicable"
    offline = findings("huawei_vrp", text, role="egress", ctx=None)  # internet-facing: where NAT and the route leave
    assert {d["interface"] for d in offline[SMB_BLOCKED].details} == {"GigabitEthernet0/0/3"}
    assert offline[SMB_BLOCKED].status == "pass"


# ------------------------------------------------------------------------------------------------ rogue exits

CELLULAR = {
    "huawei_vrp": dict(interfaces=[("Cellular0/0/0", ["description 4G-backup", "link-protocol ppp",
                                                      "ip address ppp-negotiate", "dialer enable-circular",
                                                      "nat outbound 3001"])],
                       lines=["ip route-static 0.0.0.0 0.0.0.0 Cellular0/0/0 preference 10"]),
    "hp_comware": dict(interfaces=[("Cellular0/0", ["ip address ppp-negotiate", "nat outbound 3001"])],
                       lines=["ip route-static 0.0.0.0 0 Cellular0/0 preference 10"]),
    "cisco_ios": dict(interfaces=[("Cellular0/1/0", ["ip address negotiated", "ip nat outside"])],
                      lines=["ip nat inside source list 10 interface Cellular0/1/0 overload",
                             "ip route 0.0.0.0 0.0.0.0 Cellular0/1/0 10",
                             "access-list 10 permit 10.0.0.0 0.255.255.255"]),
    "ruijie_os": dict(interfaces=[("Dialer 1", ["ip address negotiated", "ip nat outside"])],
                      lines=["ip nat inside source list 10 interface Dialer 1 overload",
                             "ip route 0.0.0.0 0.0.0.0 Dialer 1 10", "access-list 10 permit 10.0.0.0 0.255.255.255"]),
}
REMOVAL = {
    "huawei_vrp": ["undo ip route-static 0.0.0.0 0.0.0.0 Cellular0/0/0", "interface Cellular0/0/0",
                   " undo nat outbound 3001"],
    "hp_comware": ["undo ip route-static 0.0.0.0 0 Cellular0/0", "interface Cellular0/0", " undo nat outbound 3001"],
    "cisco_ios": ["no ip route 0.0.0.0 0.0.0.0 Cellular0/1/0", "no ip nat inside source list 10 interface "
                  "Cellular0/1/0 overload", "interface Cellular0/1/0", " no ip nat outside"],
    "ruijie_os": ["no ip route 0.0.0.0 0.0.0.0 Dialer 1", "no ip nat inside source list 10 interface Dialer 1 "
                  "overload", "interface Dialer 1", " no ip nat outside"],
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_routes_towards_the_parent_pass(platform):
    for ctx in ("default", None):
        found = findings(platform, config(platform, None, ()), role="access", ctx=ctx)
        assert found[NO_ROGUE_DEFAULT_ROUTE].status == "pass" and found[NO_ROGUE_NAT].status == "pass"
        assert found[NO_ROGUE_DEFAULT_ROUTE].details[0]["interface"] == UPLINK[platform]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_default_route_and_nat_out_of_a_cellular_modem_are_rogue_exits(platform):
    text = config(platform, None, (), **CELLULAR[platform])
    route_line = next(line for line in CELLULAR[platform]["lines"] if "route" in line)
    for ctx in ("default", None):
        found = findings(platform, text, role="access", ctx=ctx)
        route, nat = found[NO_ROGUE_DEFAULT_ROUTE], found[NO_ROGUE_NAT]
        assert route.status == "fail" and nat.status == "fail"
        assert route.evidence == [(line_of(text, route_line), route_line)]
        assert f"(line {line_of(text, route_line)})" in route.message and "cellular or dial-up" in route.message
        assert [d["rogue"] for d in route.details] == [False, True]  # the route to the parent is fine
        cellular = CELLULAR[platform]["interfaces"][0][0]
        assert [d["interface"] for d in nat.details if d["rogue"]] == [cellular]
        assert route.remediation + nat.remediation == REMOVAL[platform]
    again = findings(platform, fixed(platform, text, route.remediation + nat.remediation), role="access")
    assert again[NO_ROGUE_DEFAULT_ROUTE].status == "pass" and again[NO_ROGUE_NAT].status == "pass"


@dataclass(frozen=True)
class ExitCase:
    name: str
    route: dict  # platform → the default route line (to 192.168.8.1 on SPARE, a port to a 4G router)
    with_inventory: str
    offline: str
    approved_hops: tuple[str, ...] = ()
    extra_links: tuple = field(default=())


MODEM = {"huawei_vrp": "ip route-static 0.0.0.0 0.0.0.0 192.168.8.1",
         "hp_comware": "ip route-static 0.0.0.0 0 192.168.8.1", "cisco_ios": "ip route 0.0.0.0 0.0.0.0 192.168.8.1",
         "ruijie_os": "ip route 0.0.0.0 0.0.0.0 192.168.8.1"}
NOWHERE = {p: line.replace("192.168.8.1", "203.0.113.9") for p, line in MODEM.items()}
NULL = {"huawei_vrp": "ip route-static 0.0.0.0 0.0.0.0 NULL0", "hp_comware": "ip route-static 0.0.0.0 0 NULL0",
        "cisco_ios": "ip route 0.0.0.0 0.0.0.0 Null0", "ruijie_os": "ip route 0.0.0.0 0.0.0.0 Null 0"}

EXIT_CASES = [
    ExitCase("a next hop behind a port no inventory link explains is rogue; offline it cannot be told", MODEM,
             "fail", "pass"),
    ExitCase("a next hop the policy approves passes", MODEM, "pass", "pass", approved_hops=("192.168.8.1/32",)),
    ExitCase("a port the inventory links to another extranet device passes", MODEM, "pass", "pass",
             extra_links=(("spare", "agency", "ag-cpe", True, False),)),
    ExitCase("a port linked to the internet is rogue", MODEM, "fail", "pass",
             extra_links=(("spare", "internet", "isp-pe", False, False),)),
    ExitCase("a next hop on none of the device's interfaces is rogue", NOWHERE, "fail", "fail"),
    ExitCase("a default route to the null interface discards and passes", NULL, "pass", "pass"),
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("case", EXIT_CASES, ids=lambda c: c.name)
def test_where_a_default_route_leaves_decides(platform, case):
    text = config(platform, None, (), interfaces=[(SPARE[platform], ["ip address 192.168.8.2 255.255.255.0"])],
                  lines=[case.route[platform]], default_route=False)
    policy = replace(default_policy(), approved_next_hops=tuple(ipaddress.IPv4Network(h) for h in case.approved_hops))
    extra = tuple(InterfaceContext(SPARE[platform], *link[1:]) for link in case.extra_links)
    assert findings(platform, text, "access", context(platform, "access", extra), policy)[NO_ROGUE_DEFAULT_ROUTE] \
        .status == case.with_inventory
    assert findings(platform, text, "access", None, policy)[NO_ROGUE_DEFAULT_ROUTE].status == case.offline


@pytest.mark.parametrize("platform", ("huawei_vrp", "hp_comware"))
def test_nat_into_the_extranet_passes_and_nat_out_of_another_port_is_rogue(platform):
    into = config(platform, None, (), uplink_lines=["nat outbound 3001"])
    assert findings(platform, into, "cpe")[NO_ROGUE_NAT].status == "pass"
    assert findings(platform, into, "cpe", ctx=None)[NO_ROGUE_NAT].status == "pass"  # the default route leaves there
    out = config(platform, None, (), interfaces=[(SPARE[platform], ["ip address 192.168.8.2 255.255.255.0",
                                                                     "nat outbound 3001"])])
    found = findings(platform, out, "cpe")[NO_ROGUE_NAT]
    assert found.status == "fail" and found.evidence == [(line_of(out, "nat outbound 3001"), "nat outbound 3001")]
    assert findings(platform, out, "cpe", ctx=None)[NO_ROGUE_NAT].status == "fail"


def test_ios_nat_to_a_pool_leaves_by_every_outside_interface():
    text = config("cisco_ios", None, (), interfaces=[(SPARE["cisco_ios"], ["ip address 192.168.8.2 255.255.255.0",
                                                                           "ip nat outside"])],
                  lines=["ip nat pool OUT 192.168.8.10 192.168.8.20 netmask 255.255.255.0",
                         "ip nat inside source list 10 pool OUT overload"])
    found = findings("cisco_ios", text, "access")[NO_ROGUE_NAT]
    assert found.status == "fail" and [d["interface"] for d in found.details] == [SPARE["cisco_ios"]]
    assert found.remediation == ["no ip nat inside source list 10 pool OUT overload",
                                 f"interface {SPARE['cisco_ios']}", " no ip nat outside"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_rule_is_reported_for_every_device(platform):
    for role in ("core", "aggregation", "access", "cpe", "egress", "firewall"):
        found = device_findings(platform, config(platform, None, ()), role, None)
        assert [f.rule for f in found] == [SMB_BLOCKED, NO_ROGUE_DEFAULT_ROUTE, NO_ROGUE_NAT]
        assert {f.status for f in found} <= {"pass", "fail", "not_applicable"}
        assert all(isinstance(line, int) and isinstance(text, str) for f in found for line, text in f.evidence)


def test_an_unknown_platform_and_an_empty_config_are_coded_errors():
    with pytest.raises(OneNetError) as unknown:
        device_findings("junos", "set system host-name r1\n", "access")
    assert unknown.value.code == "PLATFORM_UNKNOWN"
    with pytest.raises(OneNetError) as empty:
        device_findings("huawei_vrp", "#\nreturn\n", "access")
    assert empty.value.code == "EGRESS_CONFIG_UNREADABLE"


def test_a_device_named_as_approved_egress_needs_no_egress_role():
    policy = replace(default_policy(), egress_names=frozenset({"backup-exit"}))
    text = config("cisco_ios", None, (), **CELLULAR["cisco_ios"])
    ctx = DeviceContext("backup-exit", "access", ())
    found = {f.rule: f for f in device_findings("cisco_ios", text, "access", ctx, policy)}
    assert found[NO_ROGUE_DEFAULT_ROUTE].status == found[NO_ROGUE_NAT].status == "not_applicable"


def test_offline_an_interface_name_the_inventory_does_not_have_is_reported():
    ctx = DeviceContext("agg-1", "aggregation", (InterfaceContext("GigabitEthernet0/0/9", "city-county", "core-1",
                                                                  True, True),))
    found = findings("huawei_vrp", config("huawei_vrp", BLOCK_KEYWORD), ctx=ctx)[SMB_BLOCKED]
    assert found.status == "fail" and "GigabitEthernet0/0/9 is not in the config" in found.message
    assert LAN["huawei_vrp"] not in found.message
