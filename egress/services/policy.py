"""The unified egress policy as data: egress/policy.yaml (the shipped default), or a file of the operator's.

The file is the policy: OneNet reads it, it does not keep a copy in the database (nothing in the console edits it;
a change is a reviewed change of the file, like the compliance rules). It is checked completely when it is read,
at start-up (a system check) and at first use; every mistake is reported with the file, line and field, and a
policy with a mistake is never used. YAML aliases are refused, and the file is bounded in size and nesting.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from inventory.choices import DeviceRole
from web.errors import OneNetError

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policy.yaml"
MAX_POLICY_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 8
PROTOCOLS = ("tcp", "udp")
# Where the block is enforced on a device, by inventory facts (egress.services.checks explains each).
INTERFACE_SELECTORS = ("internet", "uplink")
SECTIONS = {"blocked_ports": True, "blocked_prefixes": False, "enforce_on": True, "egress_devices": True,
            "approved_next_hops": False}  # section → required


@dataclass(frozen=True)
class BlockedPort:
    protocol: str
    port: int
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.protocol.upper()} {self.port}"


@dataclass(frozen=True)
class Enforcement:
    role: str
    interfaces: str  # one of INTERFACE_SELECTORS


@dataclass(frozen=True)
class EgressPolicy:
    path: str
    blocked_ports: tuple[BlockedPort, ...]
    blocked_prefixes: tuple[ipaddress.IPv4Network, ...]
    enforce_on: tuple[Enforcement, ...]
    egress_roles: frozenset[str]
    egress_names: frozenset[str]
    approved_next_hops: tuple[ipaddress.IPv4Network, ...]

    def is_egress(self, name: str | None, role: str | None) -> bool:
        """An approved egress device: it may have a default route and NAT towards the internet."""
        return (role or "") in self.egress_roles or (name or "") in self.egress_names

    def egress_filter(self):
        """The approved egress devices as a filter on inventory.Device."""
        from django.db.models import Q

        return Q(role__in=self.egress_roles) | Q(name__in=self.egress_names)

    def selectors_for(self, role: str | None) -> list[str]:
        """Which interfaces of a device of this role must carry the block ([] when none must)."""
        return list(dict.fromkeys(e.interfaces for e in self.enforce_on if e.role == role))

    def approves_next_hop(self, address: str) -> bool:
        ip = ipaddress.IPv4Address(address)
        return any(ip in network for network in self.approved_next_hops)

    def as_dict(self) -> dict:
        return {"path": self.path,
                "blocked_ports": [{"protocol": p.protocol, "port": p.port, "name": p.name} for p in self.blocked_ports],
                "blocked_prefixes": [str(n) for n in self.blocked_prefixes],
                "enforce_on": [{"role": e.role, "interfaces": e.interfaces} for e in self.enforce_on],
                "egress_devices": {"roles": sorted(self.egress_roles), "names": sorted(self.egress_names)},
                "approved_next_hops": [str(n) for n in self.approved_next_hops]}


# ------------------------------------------------------------------------------------------------ reading


class _Mapping(dict):
    line: int
    lines: dict  # key → the line of its value


class _Sequence(list):
    line: int
    lines: list  # the line of each item


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers lines and refuses aliases, deep nesting and too many values."""

    def __init__(self, text: str):
        super().__init__(text)
        self.values, self.depth = 0, 0

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not accepted in a policy file; "
                                              "write the value out in full", mark)
        self.values += 1
        if self.values > MAX_VALUES:
            raise yaml.composer.ComposerError(None, None, f"the file holds more than {MAX_VALUES} values", mark)
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _mapping(loader, node):
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value",
                                                    key_node.start_mark) from None
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = value_node.start_mark.line + 1
    return mapping


def _sequence(loader, node):
    sequence = _Sequence(loader.construct_object(item, deep=True) for item in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class _Problems:
    def __init__(self, path: Path):
        self.path, self.items = path, []

    def add(self, line: int, field: str, problem: str) -> None:
        self.items.append(f"{self.path}:{line}: {field}: {problem}")

    def raise_if_any(self) -> None:
        if self.items:
            raise OneNetError("EGRESS_POLICY_INVALID", f"the egress policy {self.path} was not used; fix these "
                                                       f"{len(self.items)} problem(s):\n" + "\n".join(self.items),
                              problems=self.items)


def _read(path: Path) -> object:
    problems = _Problems(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as error:
        problems.add(1, "file", f"cannot be read ({error.strerror or error})")
        problems.raise_if_any()
    if len(data) > MAX_POLICY_BYTES:
        problems.add(1, "file", f"is larger than {MAX_POLICY_BYTES} bytes; a policy is a few lines")
        problems.raise_if_any()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(data.count(b"\n", 0, error.start) + 1, "file", "is not UTF-8 text")
        problems.raise_if_any()
    try:
        return _Loader(text).get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        problems.add(mark.line + 1 if mark else 1, "file", f"is not valid YAML ({problem})")
        problems.raise_if_any()


def _line(container, key, default: int) -> int:
    lines = getattr(container, "lines", None)
    try:
        return lines[key] if lines is not None else default
    except (KeyError, IndexError, TypeError):
        return default


def _items(document, section: str, problems: _Problems) -> list[tuple[int, str, object]]:
    """(line, field, item) for each item of a list section; a section that is no list is one problem."""
    value = document.get(section)
    line = _line(document, section, document.line)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(line, section, "expected a list")
        return []
    return [(_line(value, n, line), f"{section}[{n}]", item) for n, item in enumerate(value)]


def _fields(item, field: str, line: int, allowed: dict[str, bool], problems: _Problems) -> dict | None:
    """A list item that must be a mapping with `allowed` keys (key → required)."""
    if not isinstance(item, dict):
        problems.add(line, field, f"expected a mapping with {', '.join(allowed)}")
        return None
    for key in item:
        if key not in allowed:
            problems.add(_line(item, key, line), f"{field}.{key}", f"unknown field; expected {', '.join(allowed)}")
    for key, required in allowed.items():
        if required and key not in item:
            problems.add(line, f"{field}.{key}", "is missing")
    return item


def _network(value, field: str, line: int, problems: _Problems, address_ok: bool) -> ipaddress.IPv4Network | None:
    if isinstance(value, bool) or not isinstance(value, str):
        problems.add(line, field, f"expected an IPv4 {'address or ' if address_ok else ''}prefix as text")
        return None
    if not address_ok and "/" not in value:
        problems.add(line, field, f"{value!r} is no prefix; write it as ADDRESS/LENGTH")
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        problems.add(line, field, f"{value!r} is no IPv4 {'address or ' if address_ok else ''}prefix ({error})")
        return None


def _roles(value, field: str, line: int, problems: _Problems) -> list[str]:
    roles = []
    values = value if isinstance(value, list) else [value]
    for n, role in enumerate(values):
        where = f"{field}[{n}]" if isinstance(value, list) else field
        if role not in DeviceRole.values:
            problems.add(_line(value, n, line), where, f"unknown role {role!r}; expected one of "
                                                      f"{', '.join(DeviceRole.values)}")
        else:
            roles.append(role)
    return roles


def load_policy(path: Path | str | None = None) -> EgressPolicy:
    """The policy in `path` (default: egress/policy.yaml), checked; EGRESS_POLICY_INVALID names every mistake."""
    path = Path(path) if path is not None else DEFAULT_POLICY
    document = _read(path)
    problems = _Problems(path)
    if not isinstance(document, dict):
        problems.add(1, "file", f"expected a mapping with {', '.join(SECTIONS)}")
        problems.raise_if_any()
    for key in document:
        if key not in SECTIONS:
            problems.add(_line(document, key, 1), str(key), f"unknown section; expected {', '.join(SECTIONS)}")
    for key, required in SECTIONS.items():
        if required and key not in document:
            problems.add(1, key, "is missing")

    ports, seen = [], set()
    for line, field, item in _items(document, "blocked_ports", problems):
        if _fields(item, field, line, {"protocol": True, "port": True, "name": False}, problems) is None:
            continue
        protocol, port, name = item.get("protocol"), item.get("port"), item.get("name", "")
        ok = True
        if protocol not in PROTOCOLS:
            problems.add(_line(item, "protocol", line), f"{field}.protocol", f"expected tcp or udp, not {protocol!r}")
            ok = False
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.add(_line(item, "port", line), f"{field}.port", f"expected a port number 1-65535, not {port!r}")
            ok = False
        if not isinstance(name, str):
            problems.add(_line(item, "name", line), f"{field}.name", "expected text")
            ok = False
        if ok and (protocol, port) in seen:
            problems.add(line, field, f"{protocol} {port} is listed twice")
        elif ok:
            seen.add((protocol, port))
            ports.append(BlockedPort(protocol, port, name))
    if "blocked_ports" in document and not ports and not problems.items:
        problems.add(_line(document, "blocked_ports", 1), "blocked_ports", "lists no port; the block needs at "
                                                                          "least one")

    prefixes = [network for line, field, item in _items(document, "blocked_prefixes", problems)
                if (network := _network(item, field, line, problems, address_ok=False)) is not None]
    hops = [network for line, field, item in _items(document, "approved_next_hops", problems)
            if (network := _network(item, field, line, problems, address_ok=True)) is not None]

    enforce = []
    for line, field, item in _items(document, "enforce_on", problems):
        if _fields(item, field, line, {"role": True, "interfaces": True}, problems) is None:
            continue
        roles = _roles(item.get("role"), f"{field}.role", _line(item, "role", line), problems) if "role" in item \
            else []
        selector = item.get("interfaces")
        if "interfaces" in item and selector not in INTERFACE_SELECTORS:
            problems.add(_line(item, "interfaces", line), f"{field}.interfaces",
                         f"expected one of {', '.join(INTERFACE_SELECTORS)}, not {selector!r}")
        else:
            enforce += [Enforcement(role, selector) for role in roles]  # `role: egress` or `role: [a, b]`

    egress_roles, egress_names = [], []
    devices = document.get("egress_devices")
    line = _line(document, "egress_devices", 1)
    if devices is not None and _fields(devices, "egress_devices", line, {"roles": False, "names": False},
                                       problems) is not None:
        if "roles" in devices:
            egress_roles = _roles(devices["roles"], "egress_devices.roles", _line(devices, "roles", line), problems)
        names = devices.get("names") or []
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            problems.add(_line(devices, "names", line), "egress_devices.names", "expected a list of device names")
        else:
            egress_names = list(names)
        if not egress_roles and not egress_names and not problems.items:
            problems.add(line, "egress_devices", "names no role and no device: there would be no way out at all")
    problems.raise_if_any()
    return EgressPolicy(str(path), tuple(ports), tuple(prefixes), tuple(enforce), frozenset(egress_roles),
                        frozenset(egress_names), tuple(hops))


@cache
def default_policy() -> EgressPolicy:
    """The shipped policy, read once per process."""
    return load_policy(DEFAULT_POLICY)
