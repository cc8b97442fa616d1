"""Crafted configs for the egress tests, one template per platform: an aggregation router whose uplink (the first
interface, 172.31.0.2/30 towards its parent 172.31.0.1) carries the ACL `acl` with the rules given in that platform's
syntax, bound in the directions given, plus any extra interfaces and global lines."""

from __future__ import annotations

from egress.services import DeviceContext, InterfaceContext

UPLINK = {"huawei_vrp": "GigabitEthernet0/0/1", "hp_comware": "GigabitEthernet1/0/1", "cisco_ios": "GigabitEthernet0/1",
          "ruijie_os": "GigabitEthernet 0/1"}
LAN = {"huawei_vrp": "GigabitEthernet0/0/2", "hp_comware": "GigabitEthernet1/0/2", "cisco_ios": "GigabitEthernet0/2",
       "ruijie_os": "GigabitEthernet 0/2"}
SPARE = {"huawei_vrp": "GigabitEthernet0/0/3", "hp_comware": "GigabitEthernet1/0/3", "cisco_ios": "GigabitEthernet0/3",
         "ruijie_os": "GigabitEthernet 0/3"}
ACL = {"huawei_vrp": "3100", "hp_comware": "3100", "cisco_ios": "SMB-BLOCK", "ruijie_os": "SMB-BLOCK"}
PLATFORMS = tuple(UPLINK)
KEYWORD = ("huawei_vrp", "hp_comware")  # rules written `rule N deny tcp destination-port eq 445`

# The block, in each rule style: what the lab writes.
BLOCK_KEYWORD = ["rule 5 deny tcp destination-port eq 135", "rule 10 deny tcp destination-port eq 139",
                 "rule 15 deny tcp destination-port eq 445", "rule 20 deny udp destination-port eq 137",
                 "rule 25 deny udp destination-port eq 138", "rule 30 permit ip"]
BLOCK_POSITIONAL = ["deny tcp any any eq 135", "deny tcp any any eq 139", "deny tcp any any eq 445",
                    "deny udp any any eq 137", "deny udp any any eq 138", "permit ip any any"]


def block(platform: str) -> list[str]:
    return list(BLOCK_KEYWORD if platform in KEYWORD else BLOCK_POSITIONAL)


def _binding(platform: str, direction: str) -> str:
    acl = ACL[platform]
    return {"huawei_vrp": f"traffic-filter {direction} acl {acl}", "hp_comware": f"packet-filter {acl} {direction}",
            }.get(platform, f"ip access-group {acl} {'in' if direction == 'inbound' else 'out'}")


def config(platform: str, rules: list[str] | None = None, directions=("inbound", "outbound"),
           interfaces: list[tuple[str, list[str]]] = (), lines: list[str] = (), uplink_lines: list[str] = (),
           default_route: bool = True) -> str:
    """The config text of the aggregation router (rules None: no ACL at all)."""
    acl, uplink = ACL[platform], UPLINK[platform]
    if platform == "huawei_vrp":
        out = ["#", "sysname agg-1", "#"]
        if rules is not None:
            out += [f"acl number {acl}", *(f" {r}" for r in rules), "#"]
        out += [f"interface {uplink}", " description to core-1", " ip address 172.31.0.2 255.255.255.252",
                *(f" {_binding(platform, d)}" for d in directions), *(f" {x}" for x in uplink_lines), "#",
                f"interface {LAN[platform]}", " ip address 10.1.0.1 255.255.255.0", "#"]
        for name, body in interfaces:
            out += [f"interface {name}", *(f" {x}" for x in body), "#"]
        if default_route:
            out += ["ip route-static 0.0.0.0 0.0.0.0 172.31.0.1 description default-core-1"]
        out += [*lines, "#", "return"]
    elif platform == "hp_comware":
        out = ["#", " sysname agg-1", "#"]
        if rules is not None:
            out += [f"acl advanced {acl}", *(f" {r}" for r in rules), "#"]
        out += [f"interface {uplink}", " description to core-1", " ip address 172.31.0.2 255.255.255.252",
                *(f" {_binding(platform, d)}" for d in directions), *(f" {x}" for x in uplink_lines), "#",
                f"interface {LAN[platform]}", " ip address 10.1.0.1 255.255.255.0", "#"]
        for name, body in interfaces:
            out += [f"interface {name}", *(f" {x}" for x in body), "#"]
        if default_route:
            out += [" ip route-static 0.0.0.0 0 172.31.0.1 description default-core-1"]
        out += [*(f" {x}" for x in lines), "#", "return"]
    else:
        out = ["!", "hostname agg-1", "!"]
        if rules is not None:
            out += [f"ip access-list extended {acl}", *(f" {r}" for r in rules), "!"]
        out += [f"interface {uplink}", " description to core-1", " ip address 172.31.0.2 255.255.255.252",
                *(f" {_binding(platform, d)}" for d in directions), *(f" {x}" for x in uplink_lines), "!",
                f"interface {LAN[platform]}", " ip address 10.1.0.1 255.255.255.0", "!"]
        for name, body in interfaces:
            out += [f"interface {name}", *(f" {x}" for x in body), "!"]
        if default_route:
            out += ["ip route 0.0.0.0 0.0.0.0 172.31.0.1 name default-core-1"]
        out += [*lines, "!", "end"]
    return "\n".join(out) + "\n"


def context(platform: str, role: str = "aggregation", extra=()) -> DeviceContext:
    """What the inventory knows: the uplink links to the parent core, the LAN port to a township router."""
    return DeviceContext("agg-1", role, (
        InterfaceContext(UPLINK[platform], "city-county", "core-1", True, True),
        InterfaceContext(LAN[platform], "county-township", "town-1", True, False), *extra))


def line_of(text: str, fragment: str) -> int:
    """The number of the (first) config line that is `fragment` once stripped."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == fragment)
