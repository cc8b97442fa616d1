"""The egress.* findings of one device's config, judged semantically against the egress policy.

`device_findings(platform_slug, config_text, role, context)` is what the compliance engine (policies/) and
`egress verify` call; it always returns the three rules, each pass, fail or not_applicable:

- `egress.smb-blocked`, on the devices and interfaces the policy's `enforce_on` names: for each interface, each
  direction and each blocked (protocol, port) or blocked prefix, the ACL bound in that direction is walked in order
  and the first rule that can match the traffic decides. A deny covering all of it blocks it; a permit matching all
  or part of it (above any deny) defeats the block and is named with its line; a deny of only part of it leaves the
  rest to the rules below; when nothing matches, the filter's default decides (VRP and Comware packet filters pass
  it, IOS and RGOS ACLs end with an implicit deny). A direction with no ACL bound is not enforced.
- `egress.no-rogue-default-route` and `egress.no-rogue-nat`, on every device that is not an approved egress: a
  default route, and an outbound NAT, must leave towards the extranet: by an interface at an end of an inventory link
  to another extranet device (the extranet end of an internet link is the approved egress), or towards a next hop the
  policy approves. A cellular or dial-up interface, or one whose address the carrier assigns, never is.

`context` is what the inventory knows (`DeviceContext.from_device`). Without it (offline `compliance check
--platform --config --role`) the same questions are answered from the config alone: an egress device's internet
interfaces are those with outbound NAT or a default route leaving by them; an aggregation router's uplink is the
interface its default route leaves by; a default route is approved when its next hop is on a statically addressed
interface that is no cellular or dial-up one; an outbound NAT when an approved default route leaves by its interface.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import platforms
from egress.services.policy import EgressPolicy, default_policy
from platforms.acl import DIRECTIONS, Acl, Address, InterfaceFacts, StaticRoute, Traffic, block_rules, evaluate
from web.errors import OneNetError

SMB_BLOCKED = "egress.smb-blocked"
NO_ROGUE_DEFAULT_ROUTE = "egress.no-rogue-default-route"
NO_ROGUE_NAT = "egress.no-rogue-nat"
RULES = (SMB_BLOCKED, NO_ROGUE_DEFAULT_ROUTE, NO_ROGUE_NAT)
PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not_applicable"
INTERNET = "internet"  # inventory.choices.LinkTier.INTERNET


@dataclass
class EgressFinding:
    """One egress.* rule's verdict on one config. `evidence` is (line number, line) in the config checked;
    `remediation` config-file lines for the device's platform; `details` one dict per thing checked (a port on
    an interface in a direction, or a default route or NAT), for the console and the JSON output."""

    rule: str
    status: str  # pass | fail | not_applicable
    message: str
    evidence: list[tuple[int, str]] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "evidence": [list(e) for e in self.evidence]}


@dataclass(frozen=True)
class InterfaceContext:
    """One end of an inventory link on the device."""

    name: str
    tier: str  # the link's tier (inventory.choices.LinkTier)
    peer: str  # the device at the other end
    peer_extranet: bool  # the other end is an extranet device (not the internet side of an internet link)
    uplink: bool  # this is the child end (the inventory writes a link's parent as its A end)


@dataclass(frozen=True)
class DeviceContext:
    """What the inventory knows of a device: its name, role, and its interfaces that are ends of links."""

    name: str
    role: str
    interfaces: tuple[InterfaceContext, ...] = ()

    @classmethod
    def from_device(cls, device, policy: EgressPolicy | None = None) -> DeviceContext:
        return cls.for_devices([device], policy)[device.pk]

    @classmethod
    def for_devices(cls, devices, policy: EgressPolicy | None = None) -> dict[int, DeviceContext]:
        """Contexts of many devices with one query over the links (device pk → context)."""
        from django.db.models import Q

        from inventory.models import Link

        policy = policy or default_policy()
        devices = list(devices)
        ids = {device.pk for device in devices}
        links = Link.objects.all()
        if len(ids) <= 500:  # past a few hundred devices, reading every link beats an IN list that long
            links = links.filter(Q(a_interface__device_id__in=ids) | Q(b_interface__device_id__in=ids))
        ends = defaultdict(list)
        for tier, *sides in links.values_list(
                "tier", "a_interface__name", "a_interface__device_id", "a_interface__device__name",
                "a_interface__device__role", "b_interface__name", "b_interface__device_id",
                "b_interface__device__name", "b_interface__device__role").iterator(chunk_size=5000):
            a, b = sides[:4], sides[4:]
            for mine, theirs, uplink in ((a, b, False), (b, a, True)):
                if mine[1] in ids:
                    extranet = tier != INTERNET or policy.is_egress(theirs[2], theirs[3])
                    ends[mine[1]].append(InterfaceContext(mine[0], tier, theirs[2], extranet, uplink))
        return {device.pk: cls(device.name, device.role, tuple(ends.get(device.pk, ()))) for device in devices}


# ------------------------------------------------------------------------------------------------ the config read


def _key(platform, name: str) -> str:
    return re.sub(r"\s+", "", platform.expand_interface(name)).lower()


@dataclass
class _Config:
    platform: object
    tree: object
    interfaces: dict[str, InterfaceFacts]
    acls: dict[str, Acl]
    routes: list[StaticRoute]
    nats: list
    default_action: str

    @classmethod
    def read(cls, platform, text: str) -> _Config:
        tree = platform.parse(text)
        if not tree.top_lines() and not tree.sections():
            raise OneNetError("EGRESS_CONFIG_UNREADABLE", f"the config holds no {platform.name} configuration line; "
                                                          "back the device up again.")
        return cls(platform, tree, {_key(platform, f.name): f for f in platform.interface_facts(tree)},
                   platform.read_acls(tree), platform.default_routes(tree), platform.outbound_nat(tree),
                   platform.filter_default_action(tree))

    def interface(self, name: str | None) -> InterfaceFacts | None:
        return self.interfaces.get(_key(self.platform, name)) if name else None

    def holding(self, address: str) -> InterfaceFacts | None:
        """The interface whose subnet holds the address (the way a next hop is reached)."""
        return next((f for f in self.interfaces.values() if f.holds(address)), None)


def _evidence(nodes) -> list[tuple[int, str]]:
    return sorted({(node.number, node.text) for node in nodes if node is not None})


def _line(node) -> list | None:
    return None if node is None else [node.number, node.text]


# ------------------------------------------------------------------------------------------------ the entry point


def device_findings(platform_slug: str, config_text: str, role: str, context: DeviceContext | None = None,
                    policy: EgressPolicy | None = None) -> list[EgressFinding]:
    """The three egress.* findings of one config. PLATFORM_UNKNOWN for an unknown slug; EGRESS_CONFIG_UNREADABLE for
    a text with no configuration line in it."""
    platform = platforms.get(platform_slug)
    policy = policy or default_policy()
    config = _Config.read(platform, config_text)
    role = role or (context.role if context else "")
    name = context.name if context else None
    linked = context.interfaces if context else ()
    if policy.is_egress(name, role):
        why = f"{name or 'The device'} is an approved egress (role {role})" if role in policy.egress_roles else \
            f"{name} is an approved egress device"
        rogue = [EgressFinding(rule, NOT_APPLICABLE, f"{why}: its way out to the internet is the approved one.")
                 for rule in (NO_ROGUE_DEFAULT_ROUTE, NO_ROGUE_NAT)]
    else:
        judged = [(route, *_judge_route(config, route, policy, linked)) for route in config.routes]
        rogue = [_route_finding(config, judged), _nat_finding(config, judged, policy, linked)]
    return [_smb_finding(config, policy, role, linked), *rogue]


# ------------------------------------------------------------------------------------------------ rogue exits


def _judge_interface(config: _Config, name: str, facts: InterfaceFacts | None, policy: EgressPolicy,
                     linked: tuple[InterfaceContext, ...]) -> tuple[bool, str]:
    """Whether traffic may leave by this interface: (approved, why)."""
    syntax = config.platform.egress
    if syntax.exit_interfaces.match(name):
        return False, f"{name} is a cellular or dial-up interface"
    if facts is not None and facts.dynamic is not None:
        return False, f"{name} takes its address from the carrier ({facts.dynamic.text!r})"
    if facts is not None and any(hop.overlaps(n.network) for hop in policy.approved_next_hops for n in facts.networks):
        return True, f"{name} reaches a next hop the egress policy approves"
    if linked:
        ends = [end for end in linked if _key(config.platform, end.name) == _key(config.platform, name)]
        towards = [end for end in ends if end.peer_extranet]
        if towards:
            return True, f"{name} links to {towards[0].peer} ({towards[0].tier})"
        if ends:
            return False, f"{name} links to {ends[0].peer}, the internet side of an {ends[0].tier} link"
        return False, f"{name} is no end of an inventory link to an extranet device"
    if facts is not None and facts.networks:
        return True, f"{name} has a static address (no inventory to say where it leads)"
    return False, f"{name} has no address and no inventory link to an extranet device"


def _judge_route(config: _Config, route: StaticRoute, policy: EgressPolicy,
                 linked: tuple[InterfaceContext, ...]) -> tuple[bool, str | None, str]:
    """(approved, the interface it leaves by, why)."""
    syntax = config.platform.egress
    if route.interface and syntax.discard_interfaces.match(route.interface):
        return True, None, "it discards the traffic"
    if route.dynamic:
        return False, None, "its next hop is whatever the interface learns"
    if route.next_hop and policy.approves_next_hop(route.next_hop):
        return True, route.interface or getattr(config.holding(route.next_hop), "name", None), \
            f"{route.next_hop} is a next hop the egress policy approves"
    facts = config.interface(route.interface) if route.interface else config.holding(route.next_hop)
    if facts is None and not route.interface:
        return False, None, f"its next hop {route.next_hop} is on none of the device's interfaces"
    name = facts.name if facts is not None else route.interface
    approved, why = _judge_interface(config, name, facts, policy, linked)
    return approved, name, why


def _route_finding(config: _Config, judged) -> EgressFinding:
    if not judged:
        return EgressFinding(NO_ROGUE_DEFAULT_ROUTE, PASS, "The device has no default route.")
    details = [{"kind": "route", "interface": interface, "next_hop": route.next_hop, "line": _line(route.node),
                "rogue": not approved, "reason": why} for route, approved, interface, why in judged]
    rogue = [(route, why) for route, approved, _interface, why in judged if not approved]
    if not rogue:
        return EgressFinding(
            NO_ROGUE_DEFAULT_ROUTE, PASS, "Every default route leaves towards the extranet: " + "; ".join(
                f"{route.node.text!r} (line {route.node.number}): {why}" for route, _a, _i, why in judged) + ".",
            _evidence(route.node for route, *_ in judged), details=details)
    return EgressFinding(
        NO_ROGUE_DEFAULT_ROUTE, FAIL, "A default route leaves past the unified egress: " + "; ".join(
            f"{route.node.text!r} (line {route.node.number}): {why}" for route, why in rogue) + ".",
        _evidence(route.node for route, _ in rogue),
        [line for route, _ in rogue for line in config.platform.render_route_removal(route)], details)


def _nat_finding(config: _Config, judged, policy: EgressPolicy, linked) -> EgressFinding:
    if not config.nats:
        return EgressFinding(NO_ROGUE_NAT, PASS, "The device does no outbound NAT.")
    approved_exits = {_key(config.platform, interface) for _route, approved, interface, _why in judged
                      if approved and interface}
    details, rogue = [], []
    for nat in config.nats:
        facts = config.interface(nat.interface)
        approved, why = _judge_interface(config, nat.interface, facts, policy, linked) if nat.interface else \
            (False, "it names no interface")
        if approved and not linked and _key(config.platform, nat.interface) not in approved_exits:
            approved, why = False, f"no approved default route leaves by {nat.interface}"
        details.append({"kind": "nat", "interface": nat.interface, "next_hop": None, "line": _line(nat.lines[0][1]),
                        "rogue": not approved, "reason": why})
        if not approved:
            rogue.append((nat, why))
    nodes = [node for nat in config.nats for _section, node in nat.lines]
    if not rogue:
        return EgressFinding(NO_ROGUE_NAT, PASS, "Every outbound NAT leaves towards the extranet: " + "; ".join(
            f"{d['interface']}: {d['reason']}" for d in details) + ".", _evidence(nodes), details=details)
    remediation = []
    for nat, _why in rogue:
        for line in config.platform.render_nat_removal(nat):
            if line.startswith(" ") or line not in remediation:
                remediation.append(line)
    return EgressFinding(
        NO_ROGUE_NAT, FAIL, "Outbound NAT leaves past the unified egress: " + "; ".join(
            f"{nat.lines[0][1].text!r} (line {nat.lines[0][1].number}) out of {nat.interface}: {why}"
            for nat, why in rogue) + ".",
        _evidence(node for nat, _ in rogue for _section, node in nat.lines), remediation, details)


# ------------------------------------------------------------------------------------------------ the block


@dataclass(frozen=True)
class _Blocked:
    """One thing the block must stop, and the rule that stops it (without a number) on this platform."""

    traffic: Traffic
    rule: str


def _blocked(config: _Config, policy: EgressPolicy) -> list[_Blocked]:
    syntax = config.platform.egress
    out = []
    for network in policy.blocked_prefixes:
        address = Address.network(network)
        deny_from, deny_to = block_rules(syntax, (), (network,))
        out += [_Blocked(Traffic("ip", None, source=address, label=f"from {network}"), deny_from),
                _Blocked(Traffic("ip", None, destination=address, label=f"to {network}"), deny_to)]
    for port in policy.blocked_ports:
        out.append(_Blocked(Traffic(port.protocol, port.port, label=port.label),
                            block_rules(syntax, ((port.protocol, port.port),), ())[0]))
    return out


def _enforcement_interfaces(config: _Config, selectors: list[str], linked) -> dict[str, str]:
    """Interface → why the block must be on it."""
    out: dict[str, str] = {}
    if linked:
        for end in linked:
            if ("internet" in selectors and end.tier == INTERNET and not end.peer_extranet) or \
                    ("uplink" in selectors and end.uplink):
                out.setdefault(end.name, f"its {end.tier} link to {end.peer}")
        return out
    leaving = []
    for route in config.routes:
        facts = config.interface(route.interface) if route.interface else \
            config.holding(route.next_hop) if route.next_hop else None
        if facts is not None and not config.platform.egress.discard_interfaces.match(facts.name):
            leaving.append(facts.name)
    if "internet" in selectors:
        for nat in config.nats:
            if nat.interface:
                out.setdefault(nat.interface, "it does outbound NAT")
    for name in leaving:
        out.setdefault(name, "the default route leaves by it")
    return out


@dataclass
class _Problem:
    interface: str
    direction: str
    kind: str  # missing (interface not in the config), unbound, undefined (ACL bound but not defined), defeated
    acl: str | None = None
    binding: object = None  # the line binding the ACL
    not_blocked: list[tuple[_Blocked, object]] = field(default_factory=list)  # (what, verdict)


def _smb_finding(config: _Config, policy: EgressPolicy, role: str, linked) -> EgressFinding:
    selectors = policy.selectors_for(role)
    if not selectors:
        return EgressFinding(SMB_BLOCKED, NOT_APPLICABLE, f"The egress policy enforces no block on a device of role "
                                                          f"{role or 'unknown'}.")
    targets = _enforcement_interfaces(config, selectors, linked)
    if not targets:
        where = " or ".join(selectors)
        return EgressFinding(SMB_BLOCKED, FAIL, f"No {where} interface was found to carry the block (the inventory "
                                                f"links none{'' if linked else ', and the config shows none'}), so it "
                                                "cannot be enforced.")
    blocked = _blocked(config, policy)
    details, problems, evidence = [], [], []
    for name in targets:
        facts = config.interface(name)
        if facts is None:
            for direction in DIRECTIONS:
                problems.append(_Problem(name, direction, "missing"))
                details += [_detail(name, direction, b, False, None, None, None, "the interface is not in the config")
                            for b in blocked]
            continue
        evidence.append(facts.node)
        for direction in DIRECTIONS:
            bound = facts.bindings.get(direction)
            if not bound:
                problems.append(_Problem(name, direction, "unbound"))
                details += [_detail(name, direction, b, False, None, None, None, f"no ACL is bound {direction}")
                            for b in blocked]
                continue
            acl_name, binding = bound[-1]  # a later binding in the same direction replaces an earlier one
            evidence.append(binding)
            acl = config.acls.get(acl_name)
            if acl is None or not acl.rules:
                problems.append(_Problem(name, direction, "undefined", acl_name))
                details += [_detail(name, direction, b, False, acl_name, binding, None,
                                    f"ACL {acl_name} is bound but {'has no rules' if acl else 'not defined'}, so "
                                    "everything passes") for b in blocked]
                continue
            problem = _Problem(name, direction, "defeated", acl_name, binding)
            for item in blocked:
                verdict = evaluate(acl.rules, item.traffic, config.default_action)
                decided = verdict.rule
                details.append(_detail(name, direction, item, verdict.blocked, acl_name, binding, decided,
                                       verdict.reason, verdict.partial))
                if decided is not None:
                    evidence.append(_RuleNode(decided))
                if not verdict.blocked:
                    problem.not_blocked.append((item, verdict))
            if problem.not_blocked:
                problems.append(problem)
    if not problems:
        interfaces = ", ".join(f"{name} ({why})" for name, why in targets.items())
        return EgressFinding(SMB_BLOCKED, PASS, f"Enforced in both directions on {interfaces}: "
                                                f"{', '.join(b.traffic.label for b in blocked)} denied.",
                             _evidence(evidence), details=details)
    failing = [n for problem in problems for n in _problem_nodes(config, problem)]
    return EgressFinding(SMB_BLOCKED, FAIL, "Not enforced: " + "; ".join(_describe(p, len(blocked)) for p in problems)
                         + ".", _evidence([*evidence, *failing]), _smb_remediation(config, policy, problems, blocked),
                         details)


@dataclass(frozen=True)
class _RuleNode:
    """An ACL rule as evidence (it has a line number and text, like a config node)."""

    rule: object

    @property
    def number(self):
        return self.rule.line

    @property
    def text(self):
        return self.rule.text


def _problem_nodes(config: _Config, problem: _Problem):
    for _item, verdict in problem.not_blocked:
        if verdict.rule is not None:
            yield _RuleNode(verdict.rule)


def _detail(interface, direction, item: _Blocked, enforced, acl, binding, rule, reason, partial=False) -> dict:
    return {"interface": interface, "direction": direction, "traffic": item.traffic.label, "enforced": enforced,
            "acl": acl, "binding": _line(binding),
            "rule": None if rule is None else [rule.line, rule.text], "partial": partial, "reason": reason}


def _describe(problem: _Problem, count: int) -> str:
    where = f"{problem.interface} {problem.direction}"
    if problem.kind == "missing":
        return f"{problem.interface} is not in the config"
    if problem.kind == "unbound":
        return f"{where}: no ACL is bound"
    if problem.kind == "undefined":
        return f"{where}: ACL {problem.acl} is bound but not defined (everything passes)"
    by_reason = defaultdict(list)
    for item, verdict in problem.not_blocked:
        by_reason[verdict.reason].append(item.traffic.label)
    return f"{where} (ACL {problem.acl}): " + "; ".join(f"{', '.join(labels)} {reason}"
                                                        for reason, labels in by_reason.items())


# ------------------------------------------------------------------------------------------------ block remediation


def _complete(config: _Config, acl: Acl, blocked: list[_Blocked]) -> bool:
    return bool(acl.rules) and all(evaluate(acl.rules, b.traffic, config.default_action).blocked for b in blocked)


def _smb_remediation(config: _Config, policy: EgressPolicy, problems: list[_Problem],
                     blocked: list[_Blocked]) -> list[str]:
    """Config-file lines that make the block enforced: missing denies inserted above the permit that defeats them
    (or at the end of the ACL), an undefined ACL defined, a missing binding added (to an ACL of the device that
    already blocks everything, or to a new OneNet ACL)."""
    platform = config.platform
    ports = [(p.protocol, p.port) for p in policy.blocked_ports]
    definitions: list[str] = []
    inserts: list[str] = []
    bindings: dict[tuple[str, str], list[str]] = defaultdict(list)  # (interface, ACL) → directions
    unbind: dict[str, list[str]] = {}  # interface → bindings to remove first
    new_acl: list[str] = []

    def onenet_acl() -> str:
        if not new_acl:
            new_acl.append(platform.acl_for(config.tree, platform.egress.acl_label))
            definitions.extend(platform.render_egress_block([], new_acl[0], ports, policy.blocked_prefixes))
        return new_acl[0]

    complete = [acl.name for acl in config.acls.values() if not platform.egress.is_basic(acl.name, acl.kind)
                and _complete(config, acl, blocked)]
    fixed: list[str] = []  # ACLs the lines below complete
    for problem in problems:
        if problem.kind == "undefined" and problem.acl not in fixed:
            fixed.append(problem.acl)
            definitions += platform.render_egress_block([], problem.acl, ports, policy.blocked_prefixes)
        elif problem.kind == "defeated":
            acl = config.acls[problem.acl]
            if platform.egress.is_basic(acl.name, acl.kind):  # it cannot match ports: bind a full block instead
                unbind.setdefault(problem.interface, []).append(platform.grammar.negation_of(problem.binding.text))
                bindings[problem.interface, onenet_acl()].append(problem.direction)
            elif problem.acl not in fixed:
                fixed.append(problem.acl)
                missing = [b for b in blocked if not evaluate(acl.rules, b.traffic, config.default_action).blocked]
                deciding = [v.rule for p in problems if p.acl == problem.acl for _item, v in p.not_blocked if v.rule]
                before = min(deciding, key=lambda r: r.sequence) if deciding else None
                inserts += platform.render_acl_insert(acl, [b.rule for b in missing], before)
    # A direction with no ACL gets one that blocks once the lines above are in: preferably one already bound to the
    # interface, else OneNet's own. (An interface the config lacks is the inventory's to fix.)
    for problem in problems:
        if problem.kind != "unbound":
            continue
        facts = config.interface(problem.interface)
        mine = [acl for bound in facts.bindings.values() for acl, _node in bound]
        usable = [*fixed, *complete]
        choice = next((acl for acl in mine if acl in usable), None) or next(iter(usable), None) or onenet_acl()
        bindings[problem.interface, choice].append(problem.direction)
    per_interface: dict[str, list[str]] = {name: list(removals) for name, removals in unbind.items()}
    for (interface, acl), directions in bindings.items():
        per_interface.setdefault(interface, []).extend(
            line[1:] for line in platform.render_acl_binding(interface, acl, directions)[1:])
    return [*definitions, *inserts, *(line for interface, body in per_interface.items()
                                      for line in platform.interface_block(interface, body))]
