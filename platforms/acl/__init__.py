"""The vendor-neutral model of what the egress policy verifies in a config: packet-filter ACLs evaluated in order
(first match decides), where they are bound, and the ways out of a network (default routes, outbound NAT).

Each platform fills one `EgressSyntax` with its keywords and patterns (platforms/<slug>/platform.py;
IOS and RGOS share theirs in platforms/ios_family.py), and `Platform` reads a parsed `ConfigTree` with it:
`read_acls`, `interface_facts`, `default_routes`, `outbound_nat`, and renders the egress block with it. The
readers know two rule styles, not vendors: "keyword" rules name each field (`rule 5 deny tcp source A W
destination-port eq 445`: VRP, Comware) and "positional" rules put them in order (`deny tcp any host A eq 445`:
IOS, RGOS).

Only IPv4 is modelled (`acl ipv6`, `ipv6 access-list` and their bindings are not read). A rule condition this
package does not evaluate (a time range, `established`, an object group, DSCP...) makes the rule match only
part of the traffic (`narrowed`): a deny that is narrowed blocks nothing for sure, a permit that is narrowed
still lets some of the traffic through, so the verdict errs towards "not enforced", never towards "blocked".

model.py: addresses, ports, rules, traffic and `evaluate`; syntax.py: reading rules and ACLs; facts.py:
interfaces, default routes, outbound NAT and the block's rule lines.
"""

from platforms.acl.facts import (
    InterfaceFacts,
    NatExit,
    StaticRoute,
    block_rules,
    default_routes,
    format_address,
    interface_facts,
    outbound_nat,
)
from platforms.acl.model import (
    ANY,
    DENY,
    DIRECTIONS,
    INBOUND,
    OUTBOUND,
    PERMIT,
    Acl,
    AclRule,
    Address,
    PortSet,
    Traffic,
    Verdict,
    evaluate,
    is_address,
)
from platforms.acl.syntax import EgressSyntax, RuleSyntax, read_acls, read_rule

__all__ = ["ANY", "DENY", "DIRECTIONS", "INBOUND", "OUTBOUND", "PERMIT", "Acl", "AclRule", "Address", "EgressSyntax",
           "InterfaceFacts", "NatExit", "PortSet", "RuleSyntax", "StaticRoute", "Traffic", "Verdict", "block_rules",
           "default_routes", "evaluate", "format_address", "interface_facts", "is_address", "outbound_nat",
           "read_acls", "read_rule"]
