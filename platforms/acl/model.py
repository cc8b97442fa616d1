"""The ACL model and its first-match evaluation: addresses, ports, rules, traffic, verdicts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

ALL_BITS = 0xFFFFFFFF
PERMIT, DENY = "permit", "deny"
INBOUND, OUTBOUND = "inbound", "outbound"
DIRECTIONS = (INBOUND, OUTBOUND)
COVERS, PARTIAL, NONE = "covers", "partial", "none"  # how much of some traffic a rule matches
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp"}
# Well-known port names the vendors accept in place of numbers (a name missing here narrows the rule).
PORT_NAMES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "dns": 53, "bootps": 67,
    "bootpc": 68, "tftp": 69, "www": 80, "http": 80, "pop3": 110, "sunrpc": 111, "ntp": 123, "msrpc": 135,
    "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139, "netbios-ss": 139, "snmp": 161, "snmptrap": 162,
    "bgp": 179, "https": 443, "microsoft-ds": 445, "smb": 445, "syslog": 514,
}


def _ip(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


def is_address(text: str) -> bool:
    return _ip(text) is not None


# ------------------------------------------------------------------------------------------------ the match model


@dataclass(frozen=True)
class Address:
    """A set of IPv4 addresses as an address and a wildcard (the bits that may vary), as ACLs write them."""

    value: int
    wildcard: int

    def __post_init__(self):
        object.__setattr__(self, "value", self.value & ~self.wildcard & ALL_BITS)

    @classmethod
    def network(cls, network: ipaddress.IPv4Network | str) -> Address:
        network = ipaddress.IPv4Network(network)
        return cls(int(network.network_address), int(network.hostmask))

    @property
    def is_any(self) -> bool:
        return self.wildcard == ALL_BITS

    def contains(self, other: Address) -> bool:
        fixed = ~self.wildcard & ALL_BITS
        return not (fixed & other.wildcard) and not ((self.value ^ other.value) & fixed)

    def overlaps(self, other: Address) -> bool:
        return not ((self.value ^ other.value) & ~self.wildcard & ~other.wildcard & ALL_BITS)

    def __str__(self):
        if self.is_any:
            return "any"
        address = ipaddress.IPv4Address(self.value)
        if self.wildcard == 0:
            return str(address)
        inverse = ~self.wildcard & ALL_BITS
        length = bin(inverse).count("1")
        if inverse == (ALL_BITS << (32 - length)) & ALL_BITS:
            return f"{address}/{length}"
        return f"{address} {ipaddress.IPv4Address(self.wildcard)}"


ANY = Address(0, ALL_BITS)


@dataclass(frozen=True)
class PortSet:
    """TCP/UDP ports as inclusive ranges (`eq 445` is (445, 445); `gt 1023` is (1024, 65535))."""

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def from_operator(cls, operator: str, ports: list[int]) -> PortSet | None:
        if operator == "eq" and ports:
            return cls(tuple((p, p) for p in ports))
        if operator == "neq" and len(ports) == 1:
            return cls(tuple(r for r in ((0, ports[0] - 1), (ports[0] + 1, 65535)) if r[0] <= r[1]))
        if operator == "gt" and len(ports) == 1:
            return cls(((ports[0] + 1, 65535),))
        if operator == "lt" and len(ports) == 1:
            return cls(((0, ports[0] - 1),))
        if operator == "range" and len(ports) == 2:
            return cls(((min(ports), max(ports)),))
        return None

    def __contains__(self, port: int) -> bool:
        return any(low <= port <= high for low, high in self.ranges)

    @property
    def is_all(self) -> bool:
        return _merged(self.ranges) == [(0, 65535)]

    def contains_set(self, other: PortSet) -> bool:
        return all(any(low <= o_low and o_high <= high for low, high in self.ranges) for o_low, o_high in
                   _merged(other.ranges))


def _merged(ranges) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], high)
        else:
            out.append([low, high])
    return [(low, high) for low, high in out]


@dataclass(frozen=True)
class AclRule:
    """One ACL entry as the device evaluates it. `sequence` is its number (written or implied), `line` and `text`
    where it is in the config. `narrowed`: it also has conditions OneNet does not evaluate."""

    action: str
    protocol: str = "ip"  # ip (every protocol), tcp, udp, or another protocol (which matches neither)
    source: Address = ANY
    destination: Address = ANY
    source_ports: PortSet | None = None
    destination_ports: PortSet | None = None
    narrowed: bool = False
    sequence: int | None = None
    line: int = 0
    text: str = ""


@dataclass
class Acl:
    name: str
    kind: str  # advanced/extended, or basic/standard (source address only)
    rules: list[AclRule] = field(default_factory=list)
    line: int = 0
    text: str = ""  # the line that opens it (or its first numbered line)
    numbered_lines: bool = False  # IOS `access-list N ...` lines at top level rather than a section


@dataclass(frozen=True)
class Traffic:
    """What must be blocked: one protocol and destination port (from anywhere to anywhere), or everything from or
    to a set of addresses."""

    protocol: str  # tcp, udp, or ip
    destination_port: int | None = None
    source: Address = ANY
    destination: Address = ANY
    label: str = ""


def _protocol_relation(rule: str, traffic: str) -> str:
    if rule == "ip" or rule == traffic:
        return COVERS
    if traffic == "ip":
        return PARTIAL
    return NONE


def _address_relation(rule: Address, traffic: Address) -> str:
    if rule.contains(traffic):
        return COVERS
    return PARTIAL if rule.overlaps(traffic) else NONE


def relation(rule: AclRule, traffic: Traffic) -> str:
    """How much of `traffic` the rule matches: all of it (COVERS), some (PARTIAL) or none (NONE)."""
    parts = [_protocol_relation(rule.protocol, traffic.protocol), _address_relation(rule.source, traffic.source),
             _address_relation(rule.destination, traffic.destination)]
    if rule.destination_ports is not None:
        if traffic.destination_port is None:
            parts.append(PARTIAL)
        else:
            parts.append(COVERS if traffic.destination_port in rule.destination_ports else NONE)
    if rule.source_ports is not None and not rule.source_ports.is_all:
        parts.append(PARTIAL)  # the traffic comes from any source port
    if NONE in parts:
        return NONE
    return PARTIAL if rule.narrowed or PARTIAL in parts else COVERS


def _shadows(deny: AclRule, permit: AclRule) -> bool:
    """Whether an earlier deny matches everything the permit could match (so the permit decides nothing)."""
    if deny.narrowed or deny.protocol not in ("ip", permit.protocol):
        return False
    if not (deny.source.contains(permit.source) and deny.destination.contains(permit.destination)):
        return False
    for mine, theirs in ((deny.source_ports, permit.source_ports), (deny.destination_ports, permit.destination_ports)):
        if mine is not None and (theirs is None or not mine.contains_set(theirs)):
            return False
    return True


@dataclass(frozen=True)
class Verdict:
    blocked: bool
    rule: AclRule | None = None  # the deny that blocks it, or the permit that lets it (or part of it) through
    partial: bool = False  # the deciding permit matches only part of the traffic
    reason: str = ""


def evaluate(rules: list[AclRule], traffic: Traffic, default_action: str) -> Verdict:
    """Walk the rules in order; the first that can match the traffic decides (first-match semantics).

    A deny that covers all of it blocks it; a permit that matches any of it lets that through (a permit above the
    deny defeats it); a deny of only part of it leaves the rest to the rules below; nothing matching leaves it to
    the filter's default action."""
    partial_denies: list[AclRule] = []
    for rule in rules:
        found = relation(rule, traffic)
        if found == NONE:
            continue
        if rule.action == DENY:
            if found == COVERS:
                return Verdict(True, rule, reason=f"denied by {rule.text!r} (line {rule.line})")
            partial_denies.append(rule)
            continue
        if any(_shadows(deny, rule) for deny in partial_denies):
            continue
        how = "part of it is permitted" if found == PARTIAL else "permitted"
        return Verdict(False, rule, found == PARTIAL, f"{how} by {rule.text!r} (line {rule.line}) before any deny")
    if default_action == DENY:
        return Verdict(True, None, reason="no rule matches it; the ACL ends with an implicit deny")
    return Verdict(False, None, reason="no rule denies it, and traffic no rule matches is permitted")


# ------------------------------------------------------------------------------------------------ vendor data
