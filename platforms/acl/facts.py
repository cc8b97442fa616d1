"""What a config says about its interfaces, its ways out (default routes, outbound NAT), and the block's lines."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platforms.config import ConfigTree, Node

from platforms.acl.model import is_address
from platforms.acl.syntax import EgressSyntax


@dataclass
class InterfaceFacts:
    """One interface of the config: its addresses, whether its address is dynamic, the ACLs bound to it."""

    name: str
    node: Node
    networks: list[ipaddress.IPv4Interface] = field(default_factory=list)
    dynamic: Node | None = None  # the line that makes its address dynamic (negotiated, DHCP, a dialer)
    bindings: dict[str, list[tuple[str, Node]]] = field(default_factory=dict)  # direction → [(ACL, line)]

    def holds(self, address: str) -> bool:
        return any(ipaddress.IPv4Address(address) in network.network for network in self.networks)


def interface_facts(tree: ConfigTree, syntax: EgressSyntax) -> list[InterfaceFacts]:
    out = []
    for node in tree.sections("interface "):
        facts = InterfaceFacts(node.text[len("interface "):].strip(), node)
        for child in node.children:
            if child.kind != "line":
                continue
            if found := syntax.address.match(child.text):
                try:
                    facts.networks.append(ipaddress.IPv4Interface(f"{found.group('address')}/{found.group('mask')}"))
                except ValueError:
                    pass
            elif syntax.dynamic_address.match(child.text):
                facts.dynamic = facts.dynamic or child
            if bound := syntax.binding.match(child.text):
                direction = syntax.directions.get(bound.group("direction"))
                if direction:
                    facts.bindings.setdefault(direction, []).append((bound.group("acl"), child))
        out.append(facts)
    return out


@dataclass(frozen=True)
class StaticRoute:
    """A default route: where it leaves (an interface, a next-hop address, or both) and its line."""

    node: Node
    head: str  # the words that identify it (the route without its options): what its negation names
    interface: str | None = None
    next_hop: str | None = None
    dynamic: bool = False  # the next hop is whatever is learned (IOS `dhcp`)


def _interface_name(tokens: list[str], index: int) -> tuple[str, int]:
    """An interface name at tokens[index]; RGOS writes "GigabitEthernet 0/1" as two words."""
    name = tokens[index]
    index += 1
    if not any(c.isdigit() for c in name) and index < len(tokens) and tokens[index][:1].isdigit() \
            and not is_address(tokens[index]):
        name, index = f"{name} {tokens[index]}", index + 1
    return name, index


def default_routes(tree: ConfigTree, syntax: EgressSyntax) -> list[StaticRoute]:
    routes = []
    if syntax.default_route is None:
        return routes
    for node in tree.top_lines():
        found = syntax.default_route.match(node.text)
        if not found:
            continue
        tokens, index = found.group("rest").split(), 0
        while index < len(tokens) and tokens[index] in syntax.route_qualifiers:
            index += 2
        interface = next_hop = None
        dynamic = False
        if index < len(tokens):
            if is_address(tokens[index]):
                next_hop, index = tokens[index], index + 1
            elif tokens[index] in syntax.route_dynamic:
                dynamic, index = True, index + 1
            elif tokens[index][:1].isalpha():
                interface, index = _interface_name(tokens, index)
                if index < len(tokens) and is_address(tokens[index]):
                    next_hop, index = tokens[index], index + 1
        head = " ".join([found.group("head"), *tokens[:index]])
        routes.append(StaticRoute(node, head, interface, next_hop, dynamic))
    return routes


@dataclass(frozen=True)
class NatExit:
    """Outbound NAT out of one interface: the lines that make it (each with its section, None at top level)."""

    interface: str | None
    lines: tuple[tuple[Node | None, Node], ...]


def outbound_nat(tree: ConfigTree, syntax: EgressSyntax) -> list[NatExit]:
    exits: list[NatExit] = []
    outside: list[tuple[str, Node, Node]] = []
    for node in tree.sections("interface "):
        name = node.text[len("interface "):].strip()
        for child in node.children:
            if child.kind != "line":
                continue
            if syntax.nat_interface and syntax.nat_interface.match(child.text):
                exits.append(NatExit(name, ((node, child),)))
            if syntax.nat_outside and syntax.nat_outside.match(child.text):
                outside.append((name, node, child))
    if syntax.nat_source is not None:
        for node in tree.top_lines():
            found = syntax.nat_source.match(node.text)
            if not found:
                continue
            if found.groupdict().get("interface"):
                tokens = found.group("interface").split()
                name, _ = _interface_name(tokens, 0)
                marks = tuple((section, line) for iface, section, line in outside if _same(iface, name))
                exits.append(NatExit(name, ((None, node), *marks)))
            else:  # a pool or static translation: it leaves by every outside interface
                exits += [NatExit(iface, ((None, node), (section, line))) for iface, section, line in outside]
    return exits


def _same(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


# ------------------------------------------------------------------------------------------------ rendering


def format_address(network: ipaddress.IPv4Network, style: str) -> str:
    """A prefix as a rule writes it: `A W` (keyword style, `A 0` for one host), or `host A`/`A W` (positional)."""
    if style == "keyword":
        return f"{network.network_address} {'0' if network.prefixlen == 32 else network.hostmask}"
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    if network.prefixlen == 0:
        return "any"
    return f"{network.network_address} {network.hostmask}"


def block_rules(syntax: EgressSyntax, blocked_ports, blocked_prefixes) -> list[str]:
    """The deny rules of the egress block (without numbers): blocked prefixes both ways, then blocked ports."""
    rules = []
    for network in blocked_prefixes:
        address = format_address(ipaddress.IPv4Network(network), syntax.rules.style)
        rules += [syntax.deny_from.format(address=address), syntax.deny_to.format(address=address)]
    rules += [syntax.deny_port.format(protocol=protocol, port=port) for protocol, port in blocked_ports]
    return rules
