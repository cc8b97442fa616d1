"""Reading ACL rules in the two styles the vendors write: keyword (VRP, Comware) and positional (IOS, RGOS)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platforms.config import ConfigTree

from platforms.acl.model import ANY, DENY, PERMIT, PORT_NAMES, PROTOCOL_NUMBERS, Acl, AclRule, Address, PortSet, _ip


@dataclass(frozen=True)
class RuleSyntax:
    """How one ACL entry reads after its action: "keyword" (fields named: `source A W destination-port eq P`) or
    "positional" (`tcp SRC [PORTS] DST [PORTS]`), with the words that carry no condition."""

    style: str
    ignored: frozenset[str] = frozenset()  # logging words: they change nothing about what matches
    # keyword style: the words that start a field
    source: str = "source"
    destination: str = "destination"
    source_port: str = "source-port"
    destination_port: str = "destination-port"


@dataclass(frozen=True)
class EgressSyntax:
    """A platform's keywords for what the egress policy reads and writes (data; `Platform` does the work)."""

    # -- reading ACLs
    acl_opener: re.Pattern  # a section that holds an ACL: groups `name` (as bindings name it), optional `kind`
    rule_line: re.Pattern  # a rule inside it: groups optional `seq` and `body` (from the action on)
    rules: RuleSyntax
    basic_kinds: frozenset[str]  # kinds whose rules match on the source address only
    basic_numbers: tuple[tuple[int, int], ...]  # ACL numbers that are basic/standard
    binding: re.Pattern  # an interface line binding an ACL: groups `acl` and `direction`
    directions: dict[str, str]  # the binding's words → inbound/outbound
    default_action: str  # what the packet filter does with traffic no rule matches
    step: int  # the numbering step of rules written without a number
    first_sequence: int  # the lowest rule number the platform accepts
    numbered_acl_line: re.Pattern | None = None  # a top-level ACL entry (IOS `access-list N`): `name`, `body`
    default_deny: re.Pattern | None = None  # a global line that makes unmatched traffic denied instead
    # -- interfaces, routes and NAT
    address: re.Pattern = re.compile(r"^ip address (?P<address>\d+\.\d+\.\d+\.\d+) (?P<mask>[\d.]+)\b")
    dynamic_address: re.Pattern = re.compile(r"^(ip address (ppp-negotiate|dhcp-alloc|dhcp|negotiated)\b|dialer )")
    exit_interfaces: re.Pattern = re.compile(r"^(cellular|dialer|virtual-template|async|lte|wwan|modem)",
                                             re.IGNORECASE)
    discard_interfaces: re.Pattern = re.compile(r"^null\s?0$", re.IGNORECASE)
    default_route: re.Pattern | None = None  # groups `head` (up to the mask) and `rest` (next hop and options)
    route_qualifiers: frozenset[str] = frozenset()  # words before the next hop that take one value (vpn-instance)
    route_dynamic: frozenset[str] = frozenset()  # next-hop words that mean "whatever is learned" (dhcp)
    nat_interface: re.Pattern | None = None  # an interface line that NATs what leaves by it (VRP, Comware)
    nat_source: re.Pattern | None = None  # a global NAT of inside sources (IOS): optional group `interface`
    nat_outside: re.Pattern | None = None  # an interface line marking the NAT's outside (IOS)
    # -- rendering (config-file lines; {seq}, {rule}, {acl}, {protocol}, {port}, {address} are filled in)
    opener: str = ""  # a new ACL named by number
    named_opener: str = ""  # a new ACL named by name
    description: str = ""  # a line saying whose ACL it is
    entry: str = "{rule}"  # a rule of a new ACL
    inserted_entry: str = "{seq} {rule}"  # a rule inserted into an existing ACL at `seq`
    deny_port: str = ""
    deny_from: str = ""
    deny_to: str = ""
    permit_rest: str = ""
    bind: dict[str, str] = field(default_factory=dict)  # inbound/outbound → the interface line
    named_bind: dict[str, str] = field(default_factory=dict)  # the same for an ACL known by name (default: bind)
    resequence: str = ""  # a global line renumbering an ACL ({acl}, {start}, {step}); "" → remove and re-add
    remove_rule: str = ""  # the line removing rule {seq} (with no resequence command)
    placeholder_interface: str = "GigabitEthernet0/0/1"
    acl_label: str = "ONENET-EGRESS"  # the name of OneNet's ACL where ACLs are named

    def is_basic(self, acl: str, kind: str | None) -> bool:
        if kind and kind in self.basic_kinds:
            return True
        return acl.isdigit() and any(low <= int(acl) <= high for low, high in self.basic_numbers)


# ------------------------------------------------------------------------------------------------ reading rules


def _port(token: str) -> int | None:
    if token.isdigit():
        value = int(token)
        return value if 0 <= value <= 65535 else None
    return PORT_NAMES.get(token.lower())


class _Reader:
    def __init__(self, tokens: list[str]):
        self.tokens, self.index, self.narrowed = tokens, 0, False

    def peek(self, offset: int = 0) -> str | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.index += token is not None
        return token


def _keyword_address(reader: _Reader) -> Address:
    token = reader.take()
    if token is None or token == "any":
        reader.narrowed |= token is None
        return ANY
    value = _ip(token)
    if value is None:
        reader.narrowed = True
        return ANY
    wildcard_text = reader.peek()
    if wildcard_text == "0":
        reader.take()
        return Address(value, 0)
    wildcard = _ip(wildcard_text) if wildcard_text else None
    if wildcard is None:
        return Address(value, 0)
    reader.take()
    return Address(value, wildcard)


def _ports(reader: _Reader, words: frozenset[str] | set[str]) -> PortSet | None:
    """`eq 445` (IOS also `eq 135 139 445`), `neq P`, `gt P`, `lt P`, `range A B`; None (and the rule narrowed)
    for what cannot be read, such as a port name OneNet does not know."""
    operator = reader.take() or ""
    wanted = 2 if operator == "range" else 1
    ports: list[int] = []
    while (token := reader.peek()) is not None:
        port = None if token in words else _port(token)
        if len(ports) >= wanted and (operator != "eq" or port is None):
            break
        if port is None:
            reader.take()
            reader.narrowed = True
            return None
        ports.append(port)
        reader.take()
    found = PortSet.from_operator(operator, ports)
    reader.narrowed |= found is None
    return found


KEYWORD_VALUED = {"time-range", "vpn-instance", "precedence", "tos", "dscp", "fragment-type", "ttl", "icmp-type",
                  "tcp-flag", "igmp-type", "hop-limit"}


def _keyword_rule(body: str, syntax: RuleSyntax) -> dict | None:
    tokens = body.split()
    if not tokens or tokens[0] not in (PERMIT, DENY):
        return None
    reader = _Reader(tokens[1:])
    fields = {syntax.source, syntax.destination, syntax.source_port, syntax.destination_port}
    words = fields | KEYWORD_VALUED | syntax.ignored | {"fragment", "established"}
    protocol = "ip"
    if reader.peek() is not None and reader.peek() not in words:
        protocol = reader.take().lower()
    found = {"action": tokens[0], "protocol": PROTOCOL_NUMBERS.get(protocol, protocol)}
    while (token := reader.take()) is not None:
        if token == syntax.source:
            found["source"] = _keyword_address(reader)
        elif token == syntax.destination:
            found["destination"] = _keyword_address(reader)
        elif token in (syntax.source_port, syntax.destination_port):
            key = "source_ports" if token == syntax.source_port else "destination_ports"
            found[key] = _ports(reader, words)
        elif token in syntax.ignored:
            continue
        elif token in KEYWORD_VALUED:
            reader.narrowed = True
            reader.take()
            while reader.peek() is not None and reader.peek() not in words:  # tcp-flag syn ack ..., icmp-type x y
                reader.take()
        else:  # fragment, established, or a word OneNet does not know: a condition it cannot evaluate
            reader.narrowed = True
    found["narrowed"] = reader.narrowed
    return found


POSITIONAL_FLAGS = {"established", "fragments", "ack", "syn", "fin", "psh", "rst", "urg", "match-any", "match-all"}
POSITIONAL_VALUED = {"dscp", "precedence", "tos", "time-range", "ttl", "option", "reflect"}


def _positional_address(reader: _Reader, standard: bool) -> Address:
    token = reader.take()
    if token is None:
        reader.narrowed = True
        return ANY
    if token == "any":
        return ANY
    if token == "host":
        value = _ip(reader.take() or "")
        if value is None:
            reader.narrowed = True
            return ANY
        return Address(value, 0)
    if token in ("object-group", "addrgroup"):
        reader.take()
        reader.narrowed = True
        return ANY
    value = _ip(token)
    if value is None:
        reader.narrowed = True
        return ANY
    wildcard = _ip(reader.peek() or "")
    if wildcard is None:
        if not standard:
            reader.narrowed = True
        return Address(value, 0)
    reader.take()
    return Address(value, wildcard)


def _positional_rule(body: str, syntax: RuleSyntax, basic: bool) -> dict | None:
    tokens = body.split()
    if not tokens or tokens[0] not in (PERMIT, DENY):
        return None
    reader = _Reader(tokens[1:])
    found = {"action": tokens[0], "protocol": "ip"}
    if basic:
        found["source"] = _positional_address(reader, standard=True)
    else:
        protocol = (reader.take() or "").lower()
        if protocol == "object-group":
            reader.take()
            reader.narrowed, protocol = True, "ip"
        found["protocol"] = protocol = PROTOCOL_NUMBERS.get(protocol, protocol)
        found["source"] = _positional_address(reader, standard=False)
        words = {"any", "host", "object-group", "addrgroup", *POSITIONAL_FLAGS, *POSITIONAL_VALUED, *syntax.ignored}
        if protocol in ("tcp", "udp") and reader.peek() in ("eq", "neq", "gt", "lt", "range"):
            found["source_ports"] = _ports(reader, words)
        found["destination"] = _positional_address(reader, standard=False)
        if protocol in ("tcp", "udp") and reader.peek() in ("eq", "neq", "gt", "lt", "range"):
            found["destination_ports"] = _ports(reader, words)
    while (token := reader.take()) is not None:
        if token in syntax.ignored:
            continue
        if token in POSITIONAL_VALUED:
            reader.take()
        reader.narrowed = True
    found["narrowed"] = reader.narrowed
    return found


def read_rule(body: str, syntax: RuleSyntax, basic: bool, sequence: int | None = None, line: int = 0,
              text: str = "") -> AclRule | None:
    """One ACL entry from its text after the number (`deny tcp any any eq 445`); None for what is no entry
    (a remark). Parts that cannot be read narrow the rule rather than fail."""
    found = _keyword_rule(body, syntax) if syntax.style == "keyword" else _positional_rule(body, syntax, basic)
    if found is None:
        return None
    return AclRule(sequence=sequence, line=line, text=text or body, **found)


# ------------------------------------------------------------------------------------------------ reading a config


def read_acls(tree: ConfigTree, syntax: EgressSyntax) -> dict[str, Acl]:
    """Every IPv4 ACL of the config by the name bindings use (numbers as text), rules in evaluation order."""
    acls: dict[str, Acl] = {}
    for node in tree.nodes:
        if node.is_section and (opened := syntax.acl_opener.match(node.text)):
            name = opened.group("name")
            kind = opened.groupdict().get("kind")
            acl = acls.setdefault(name, Acl(name, kind or "", line=node.number, text=node.text))
            basic = syntax.is_basic(name, kind)
            for child in node.children:
                if child.kind == "line" and (entry := syntax.rule_line.match(child.text)):
                    seq = entry.group("seq")
                    rule = read_rule(entry.group("body"), syntax.rules, basic, int(seq) if seq else None,
                                     child.number, child.text)
                    if rule is not None:
                        acl.rules.append(rule)
        elif node.kind == "line" and syntax.numbered_acl_line and (
                entry := syntax.numbered_acl_line.match(node.text)):
            name = entry.group("name")
            acl = acls.setdefault(name, Acl(name, "", line=node.number, text=node.text, numbered_lines=True))
            rule = read_rule(entry.group("body"), syntax.rules, syntax.is_basic(name, None), None, node.number,
                             node.text)
            if rule is not None:
                acl.rules.append(rule)
    for acl in acls.values():
        acl.rules = _sequenced(acl.rules, syntax.step)
        acl.kind = acl.kind or ("basic" if syntax.is_basic(acl.name, None) else "advanced")
    return acls


def _sequenced(rules: list[AclRule], step: int) -> list[AclRule]:
    """Rules in the order the device evaluates them (by number), each with its number, written or implied."""
    out, previous = [], 0
    for rule in rules:
        sequence = rule.sequence if rule.sequence is not None else previous + step
        previous = sequence
        out.append(rule if rule.sequence == sequence else AclRule(**{**rule.__dict__, "sequence": sequence}))
    return sorted(out, key=lambda r: r.sequence)
