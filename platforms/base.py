"""What every platform module provides, and the registry that finds one by its slug.

A platform is one vendor's operating system (`huawei_vrp`, `hp_comware`, `cisco_ios`, `ruijie_os`, netmiko's
names). Its package under platforms/ owns every difference: the config grammar and interface names, the
blocks OneNet renders for it (ACLs bound to an interface, a port shut down), where its configs hold secrets,
how SNMP identifies it, and its NAPALM driver. An unknown slug is an error, never a fallback.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from platforms import acl as acls
from platforms.config import ConfigTree
from platforms.grammar import Abbreviations, Grammar
from platforms.secrets import SecretRule, mask_config
from web.errors import OneNetError

if TYPE_CHECKING:
    from platforms.driver import CliDriver


@dataclass(frozen=True)
class HostAcl:
    """How a platform blocks one host: the ACL's lines (the first opens it) and the interface line binding it
    inbound; `{acl}` and `{host}` are filled in. Removing is the negation of both."""

    lines: tuple[str, ...]
    binding: str


class Platform:
    slug: ClassVar[str]
    name: ClassVar[str]  # as people write it: "Huawei VRP"
    vendor: ClassVar[str]
    netmiko_type: ClassVar[str]
    grammar: ClassVar[Grammar]
    interfaces: ClassVar[Abbreviations]
    secret_rules: ClassVar[tuple[SecretRule, ...]]
    hier_config: ClassVar[object]  # the hier_config Platform that computes remediation for this one
    driver: ClassVar[type[CliDriver]]
    # SNMP: the sysObjectID subtrees (enterprise numbers) of the vendor, and sysDescr words that name the OS.
    enterprise_oids: ClassVar[tuple[str, ...]] = ()
    sys_descr_pattern: ClassVar[re.Pattern]
    # ACL numbers OneNet may take for its own blocks (VRP and Comware number their advanced ACLs).
    acl_numbers: ClassVar[range | None] = None
    # The ACL that blocks one host, per IP version: {4: HostAcl, 6: HostAcl}.
    host_acls: ClassVar[dict[int, HostAcl]]
    # How the egress policy reads and writes this platform's packet filters, default routes and NAT.
    egress: ClassVar[acls.EgressSyntax]
    # A sysObjectID under the vendor's enterprise number is enough (the vendor makes no other OS).
    object_id_suffices: ClassVar[bool] = False
    # The model is the ENTITY-MIB chassis name rather than the sysDescr's (which names only the image family).
    model_from_entity_mib: ClassVar[bool] = False

    # -- configs ----------------------------------------------------------------------------------
    def parse(self, text: str) -> ConfigTree:
        return ConfigTree.parse(text, self.grammar)

    def mask_secrets(self, text: str) -> str:
        """The config as everyone but administrators sees it: secrets replaced by a keyed hash."""
        return mask_config(text, self.secret_rules)

    def expand_interface(self, name: str) -> str:
        return self.interfaces.expand(name)

    def abbreviate_interface(self, name: str) -> str:
        return self.interfaces.abbreviate(name)

    # -- rendering: config-file lines (sections at column 0, their lines one space in) --------------------
    def interface_block(self, port: str, lines: list[str]) -> list[str]:
        return [f"interface {port}"] + [f" {line}" for line in lines]

    def render_port_shutdown(self, port: str) -> list[str]:
        return self.interface_block(port, ["shutdown"])

    def render_port_release(self, port: str) -> list[str]:
        return self.interface_block(port, [self.grammar.negation_of("shutdown")])

    def acl_for(self, config: ConfigTree, label: str) -> str:
        """The ACL OneNet's block will use on this device: a free number in `acl_numbers`, or a name."""
        if self.acl_numbers is None:
            return label
        used = {int(m.group(1)) for n in config.nodes if (m := re.match(r"acl (?:number |advanced |ipv6 (?:number |"
                                                                            r"advanced )?)?(\d+)", n.text))}
        for number in self.acl_numbers:
            if number not in used:
                return str(number)
        raise OneNetError("ACL_NONE_FREE", f"ACLs {self.acl_numbers.start}-{self.acl_numbers.stop - 1} are all used "
                                           f"on this {self.name} device; free one first.")

    def render_host_block(self, port: str, host: str, acl: str) -> list[str]:
        """An ACL that drops everything from `host`, bound inbound to `port` (config-file lines)."""
        template = self.host_acls[ip_version(host)]
        return [*(line.format(acl=acl, host=host) for line in template.lines),
                *self.interface_block(port, [template.binding.format(acl=acl)])]

    def render_host_unblock(self, port: str, host: str, acl: str) -> list[str]:
        """What undoes render_host_block: the binding removed, then the ACL."""
        template = self.host_acls[ip_version(host)]
        negate = self.grammar.negation_of
        return [*self.interface_block(port, [negate(template.binding.format(acl=acl))]),
                negate(template.lines[0].format(acl=acl, host=host))]

    # -- the egress policy: packet filters, default routes and NAT (platforms.acl) --------------------------
    def read_acls(self, config: ConfigTree) -> dict[str, acls.Acl]:
        """Every IPv4 ACL by the name its bindings use, rules in the order the device evaluates them."""
        return acls.read_acls(config, self.egress)

    def interface_facts(self, config: ConfigTree) -> list[acls.InterfaceFacts]:
        """Each interface with its IPv4 addresses, whether its address is dynamic, and its ACLs per direction."""
        return acls.interface_facts(config, self.egress)

    def default_routes(self, config: ConfigTree) -> list[acls.StaticRoute]:
        return acls.default_routes(config, self.egress)

    def outbound_nat(self, config: ConfigTree) -> list[acls.NatExit]:
        return acls.outbound_nat(config, self.egress)

    def filter_default_action(self, config: ConfigTree) -> str:
        """What a bound packet filter does with traffic none of its rules match."""
        syntax = self.egress
        if syntax.default_deny and any(syntax.default_deny.match(node.text) for node in config.top_lines()):
            return acls.DENY
        return syntax.default_action

    def egress_acl_opener(self, acl: str) -> str:
        return (self.egress.opener if acl.isdigit() else self.egress.named_opener).format(acl=acl)

    def render_acl_binding(self, port: str, acl: str, directions=acls.DIRECTIONS) -> list[str]:
        """`acl` bound to `port` in each of `directions` (config-file lines)."""
        templates = self.egress.bind if acl.isdigit() or not self.egress.named_bind else self.egress.named_bind
        return self.interface_block(port, [templates[direction].format(acl=acl) for direction in directions])

    def render_egress_block(self, ports: list[str], acl: str, blocked_ports, blocked_prefixes=()) -> list[str]:
        """OneNet's egress ACL: `blocked_prefixes` denied both ways, then each (protocol, port) of `blocked_ports`,
        then everything else permitted; bound inbound and outbound to each of `ports` (config-file lines)."""
        syntax = self.egress
        rules = [*acls.block_rules(syntax, blocked_ports, blocked_prefixes), syntax.permit_rest]
        lines = [self.egress_acl_opener(acl)]
        if syntax.description:
            lines.append(" " + syntax.description.format(text="onenet-egress-block"))
        lines += [" " + syntax.entry.format(seq=(n + 1) * syntax.step, rule=rule) for n, rule in enumerate(rules)]
        for port in ports:
            lines += self.render_acl_binding(port, acl)
        return lines

    def render_acl_insert(self, acl: acls.Acl, rules: list[str], before: acls.AclRule | None) -> list[str]:
        """Config-file lines that put `rules` into the existing `acl` just above `before` (at its end for None);
        when the numbers in between leave no room, the ACL is renumbered (IOS `resequence`) or its rules are
        written again around the new ones."""
        syntax = self.egress
        existing = acl.rules
        opener = self.egress_acl_opener(acl.name) if acl.numbered_lines else acl.text
        index = existing.index(before) if before is not None else len(existing)
        low = existing[index - 1].sequence if index else syntax.first_sequence - 1
        high = before.sequence if before is not None else low + syntax.step * (len(rules) + 1)
        if high - low - 1 >= len(rules):
            return [opener, *(" " + syntax.inserted_entry.format(seq=low + 1 + n, rule=rule)
                              for n, rule in enumerate(rules))]
        step = syntax.step * (len(rules) + 1)
        if syntax.resequence:
            low = step * index if index else syntax.first_sequence - 1
            return [syntax.resequence.format(acl=acl.name, start=step, step=step), opener,
                    *(" " + syntax.inserted_entry.format(seq=low + 1 + n, rule=rule) for n, rule in enumerate(rules))]
        bodies = [found.group("body") if (found := syntax.rule_line.match(rule.text)) else rule.text
                  for rule in existing]
        ordered = [*bodies[:index], *rules, *bodies[index:]]
        return [opener, *(" " + syntax.remove_rule.format(seq=rule.sequence) for rule in existing),
                *(" " + syntax.inserted_entry.format(seq=(n + 1) * syntax.step, rule=body)
                  for n, body in enumerate(ordered))]

    def render_route_removal(self, route: acls.StaticRoute) -> list[str]:
        return [self.grammar.negation_of(route.head)]

    def render_nat_removal(self, nat: acls.NatExit) -> list[str]:
        """The lines that stop one outbound NAT: each of its lines negated where it is written."""
        lines: list[str] = []
        for section, node in nat.lines:
            if section is None:
                lines.append(self.grammar.negation_of(node.text))
            else:
                lines += [section.text, " " + self.grammar.negation_of(node.text)]
        return lines

    # -- SNMP identification --------------------------------------------------------------------------
    def owns_object_id(self, oid: str | None, sys_descr: str = "") -> bool:
        """Whether a sysObjectID is this vendor's (the sysDescr then says whether it runs this OS)."""
        return bool(oid) and any(oid == p or oid.startswith(p + ".") for p in self.enterprise_oids)

    def vendor_for(self, sys_descr: str, sys_object_id: str | None = None) -> str:
        """The brand on the box: the vendor, or the OEM whose name an OEM build carries."""
        return self.vendor

    def names_os(self, sys_descr: str) -> bool:
        return bool(self.sys_descr_pattern.search(sys_descr))

    def parse_sys_descr(self, sys_descr: str) -> tuple[str | None, str | None]:
        """(model, OS version) from the sysDescr; None where it does not say."""
        return None, None

    def identity_oids(self, sys_object_id: str | None) -> dict[str, str]:
        """Scalars of the vendor's own MIB that name the model and OS version ({"model"|"os_version": OID}), read
        when the sysDescr does not say (an OEM build's sysDescr often names neither)."""
        return {}

    def __repr__(self):
        return f"<Platform {self.slug}>"


def ip_version(host: str) -> int:
    return ipaddress.ip_address(host).version


# -- the registry ------------------------------------------------------------------------------------------
_PLATFORMS: dict[str, Platform] = {}


def register(platform_class: type[Platform]) -> type[Platform]:
    """Class decorator: one instance per slug; a second module claiming a slug is an error."""
    slug = platform_class.slug
    if slug in _PLATFORMS:
        raise OneNetError("PLATFORM_DUPLICATE", f"platform {slug!r} is registered twice "
                                                f"({_PLATFORMS[slug].__class__.__module__} and "
                                                f"{platform_class.__module__}).")
    _PLATFORMS[slug] = platform_class()
    return platform_class


def get(slug: str) -> Platform:
    try:
        return _PLATFORMS[slug]
    except (KeyError, TypeError):
        raise OneNetError("PLATFORM_UNKNOWN", f"no platform {slug!r}; expected one of "
                                              f"{', '.join(sorted(_PLATFORMS))}.") from None


def all_platforms() -> list[Platform]:
    return [_PLATFORMS[slug] for slug in sorted(_PLATFORMS)]
