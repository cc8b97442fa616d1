"""A lab device's management plane as a state file: its format, its first-match evaluation, and the reader the
SNMP agents use on every request.

The SSH devices' process (lab/ssh/management.py) reads each device's running config after every command and,
when what reaches the device changes, writes `<state-dir>/mgmt/<device>.json` (tmp file + os.replace, mtime_ns
always increasing).  The SNMP agents (`python -m lab.snmp --state-dir D`, the same D) stat that file on every
request and re-read it only when it changed, so a change is visible to the very next request.  No file: the
device runs its baseline config, which admits the NMS network and the lab's console (127.0.0.0/8), so nothing
is filtered.  The SSH side evaluates its own VTY ACLs with the same `Plane`, so both sides agree.

The file (version 1):
    {"version": 1, "device": NAME,
     "cut": [INTERFACE, ...],             shut interfaces on the management path; non-empty: the device is cut off
     "shutdown": [INTERFACE, ...],        every interface shut in the running config (ifAdmin/OperStatus down)
     "vty": [ACL, ...],                   a new SSH client must be admitted by every one of these
     "snmp_communities": [ACL|null, ...], SNMP answers if one community line admits the source (null: no ACL)
     "snmp_agent": [ACL, ...],            ...and every agent-wide ACL admits it
     "ignored_rules": [TEXT, ...]}        (optional, for people) bound ACL rules the lab does not evaluate
An ACL is {"name": "2000", "rules": [["permit"|"deny", ADDRESS, WILDCARD], ...]}: the first rule whose address
and wildcard match the source decides, and no match denies (the implicit deny).  `"rules": null` is an ACL that
is bound but not defined, which admits everyone (what VRP and IOS do).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass

log = logging.getLogger("lab.snmp")

VERSION = 1
MAX_FILE_BYTES = 1 << 20  # a state file is a few hundred bytes; anything bigger is not ours


def address_value(address: str) -> int | None:
    """An IPv4 address as an int (fast: this runs per SNMP request); None if it is no IPv4 address."""
    try:
        return int.from_bytes(socket.inet_aton(address), "big") if address.count(".") == 3 else None
    except (OSError, TypeError):
        return None


def interface_key(name: str) -> str:
    """Interface names compared without case and spaces (RGOS writes `GigabitEthernet 0/1`)."""
    return "".join(name.split()).lower()


@dataclass(frozen=True)
class Acl:
    name: str
    rules: tuple[tuple[bool, int, int], ...] | None  # (permit, address bits, fixed bits); None: not defined

    def admits(self, address: int) -> bool:
        if self.rules is None:
            return True
        for permit, value, fixed in self.rules:
            if address & fixed == value:
                return permit
        return False

    @classmethod
    def from_json(cls, raw) -> Acl:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ValueError(f"not an ACL: {raw!r:.80}")
        if raw.get("rules") is None:
            return cls(raw["name"], None)
        rules = []
        for rule in raw["rules"]:
            action, address, wildcard = rule
            value, mask = address_value(address), address_value(wildcard)
            if action not in ("permit", "deny") or value is None or mask is None:
                raise ValueError(f"not an ACL rule: {rule!r:.80}")
            fixed = ~mask & 0xFFFFFFFF
            rules.append((action == "permit", value & fixed, fixed))
        return cls(raw["name"], tuple(rules))


@dataclass(frozen=True)
class Plane:
    """What reaches one device, from its state file (or computed by the SSH side from its running config)."""

    cut: tuple[str, ...] = ()
    shutdown: tuple[str, ...] = ()
    vty: tuple[Acl, ...] = ()
    snmp_communities: tuple[Acl | None, ...] = ()
    snmp_agent: tuple[Acl, ...] = ()

    def admits_ssh(self, address: str) -> bool:
        if self.cut:
            return False
        value = address_value(address)
        return all(acl.admits(value) for acl in self.vty) if value is not None else not self.vty

    def admits_snmp(self, address: str) -> bool:
        if self.cut:
            return False
        value = address_value(address)
        if value is None:
            return not self.snmp_communities and not self.snmp_agent
        # No community line at all: the lab's agent still serves the topology's community (a lab simplification).
        communities = not self.snmp_communities or any(acl is None or acl.admits(value)
                                                       for acl in self.snmp_communities)
        return communities and all(acl.admits(value) for acl in self.snmp_agent)

    @classmethod
    def from_json(cls, document) -> Plane:
        """A plane from a state file's document; ValueError (or TypeError/KeyError) if it is not one."""
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise ValueError("not a version 1 management state")

        def names(key):
            values = document.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{key} is not a list of interface names")
            return tuple(values)

        return cls(names("cut"), names("shutdown"),
                   tuple(Acl.from_json(a) for a in document.get("vty", [])),
                   tuple(None if a is None else Acl.from_json(a) for a in document.get("snmp_communities", [])),
                   tuple(Acl.from_json(a) for a in document.get("snmp_agent", [])))


class PlaneFile:
    """One device's state file, stat'ed on every `current()` and re-read only when it changed."""

    __slots__ = ("path", "_key", "plane")

    def __init__(self, path):
        self.path = os.fspath(path)
        self._key = None
        self.plane: Plane | None = None

    def current(self) -> Plane | None:
        """The device's plane now; None when it runs its baseline (no file, or a file that is not ours)."""
        try:
            stat = os.stat(self.path)
            key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        if key != self._key:
            self._key = key
            self.plane = None if key is None else self._load()
        return self.plane

    def _load(self) -> Plane | None:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise ValueError("too big")
            return Plane.from_json(json.loads(data))
        except FileNotFoundError:
            return None  # replaced or removed since the stat: the next request looks again
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("ignoring the management state %s: %s", self.path, error)
            return None
