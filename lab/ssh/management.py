"""What a lab device's running config does to its management plane, and the lab-only fault injection.

After every command (and whenever a rollback timer replaces the running config) the SSH process reads, from the
running config:
- the ACLs bound to new SSH logins: VRP `user-interface vty 0 4` / ` acl 2000 inbound`, Comware `ssh server acl
  2000` and ` acl 2000 inbound` under `line vty`, IOS and RGOS `line vty 0 4` / ` access-class 99 in`.  A client
  must be admitted by each of them; one that is not has its TCP connection closed before the SSH banner (what a
  device with a VTY ACL does).  An already open session survives, as on real devices;
- the ACLs bound to SNMP: the community lines (VRP and Comware `snmp-agent community read|write [cipher] X acl
  2000`, IOS and RGOS `snmp-server community X RO 99`) and VRP's agent-wide `snmp-agent acl 2000`.  The lab's agent
  serves the topology's community, not the strings in the config (those are ciphered per device), so a request is
  answered if one community line admits its source and every agent-wide ACL does; else it is silently dropped;
- the interfaces shut down (`shutdown` under them): ifAdminStatus and ifOperStatus down(2) in SNMP;
- whether management is cut: a shut interface carries the management path (the uplink towards the core, see
  `LabIndex.uplinks`, or an interface holding the management address).  The device then answers nothing: new SSH
  connections are closed before the banner, SNMP is silent, and every open session of the device is dropped right
  after the command's output (it rode over that link) until a rollback timer (or the lab console below) puts the
  config back.

ACL rules are evaluated first match on the client's source address (`platforms.acl` reads them): basic rules
(`rule 5 permit source A W`, `rule 5 deny`, `access-list 99 permit A W`, `deny any`, `host A`, named standard
ACLs).  A rule with conditions the lab does not evaluate (protocol, destination, ports, time ranges) is ignored
and logged.  A bound ACL no rule of which matches denies (the implicit deny); a bound ACL that is not defined at
all admits everyone (what VRP and IOS do).  A newer binding replaces the older one of its kind (the same VTY
direction, the same community), as on the devices.

The state goes to `<state-dir>/mgmt/<device>.json` (format and reader: lab/snmp/management.py), written only when
it changes; each SSH shard removes its devices' files when it starts, so a previous run's state never leaks.

Lab-only fault injection, a hidden command typed in user view / privileged EXEC (never in config mode) of any
lab device, lasting until it fires, is cleared, or the lab stops:
- `lab-fault drop-session-after N`: the next N lines typed in config mode (system view and its sub-views,
  `(config)#` modes), in any session of the device, are accepted; line N+1 closes that session's connection
  without a reply, the line not applied.  One-shot.
- `lab-fault rescue-after SECONDS`: the lab's console (out of band).  SECONDS (scaled by the lab's timer scale,
  like the rollback timers) after the lab's console next loses SSH to the device (management cut, or a VTY ACL
  that refuses 127.0.0.1), its running config goes back to what it was when this was typed, unless SSH came back
  first (then the rescue is spent).  One-shot: for a test that cuts a device with no rollback timer of its own.
- `lab-fault clear`: disarm both.  `lab-fault` alone: what is armed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import platforms
from lab.snmp.management import VERSION, interface_key
from lab.ssh.cli.interfaces import interface_ip, interfaces_of, is_shutdown
from platforms.config import LINE, ConfigTree, Node

log = logging.getLogger(__name__)

IOS_FAMILY = ("cisco_ios", "ruijie_os")  # the others (VRP, Comware) share the `undo`-style lines read here
VTY_SECTION = re.compile(r"^(user-interface|line) vty \d")
VTY_ACL = re.compile(r"^acl (?:name )?(?P<acl>\S+) inbound$")  # under the VTY lines: filters new logins
IOS_VTY_ACL = re.compile(r"^access-class (?P<acl>\S+) in(?: vrf-also)?$")
GLOBAL_VTY_ACL = {"hp_comware": re.compile(r"^ssh server acl (?P<acl>\d+)$")}
SNMP_AGENT_ACL = {"huawei_vrp": re.compile(r"^snmp-agent acl (?P<acl>\d+)$")}
COMMUNITY = re.compile(r"^snmp-agent community (?:read|write) (?:(?:cipher|simple) )?(?P<name>\S+)(?P<rest>.*)$")
IOS_COMMUNITY = re.compile(r"^snmp-server community (?P<name>\S+)(?P<rest>.*)$")
# Bindings a newer line replaces (in a VTY section, or at top level): pattern -> the key lines of a kind share.
VTY_BINDING = re.compile(r"^(?:acl (?P<v6>ipv6 )?(?:name )?\S+ (?P<dir>inbound|outbound)|"
                         r"access-class \S+ (?P<ios_dir>in|out)(?: vrf-also)?)$")
GLOBAL_BINDING = re.compile(r"^(?P<kind>ssh server acl|snmp-agent acl) \d+$")
CONSOLE_ADDRESS = "127.0.0.1"  # where the lab's console (poller, backups, tests) comes from over the loopback
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
FAULT_USAGE = ("Usage: lab-fault drop-session-after N | lab-fault rescue-after SECONDS | lab-fault clear | "
               "lab-fault")
MAX_FAULT_LINES = 100_000
MAX_RESCUE_SECONDS = 86_400


# -- reading the running config ----------------------------------------------------------------------------
def describe(state) -> dict:
    """The device's management state (the state file's document) from its running config."""
    device, config = state.device, state.running
    platform = platforms.get(device.platform)
    acls = platform.read_acls(config)
    ignored: list[str] = []

    def acl(name: str) -> dict:
        found = acls.get(name)
        if found is None:
            return {"name": name, "rules": None}  # bound but not defined: admits everyone
        rules = []
        for rule in found.rules:
            if rule.narrowed or rule.protocol != "ip" or not rule.destination.is_any or rule.source_ports \
                    or rule.destination_ports:
                ignored.append(rule.text)
                continue
            rules.append([rule.action, _dotted(rule.source.value), _dotted(rule.source.wildcard)])
        return {"name": name, "rules": rules}

    ios = device.platform in IOS_FAMILY
    vty_acl, community = (IOS_VTY_ACL, IOS_COMMUNITY) if ios else (VTY_ACL, COMMUNITY)
    vty, communities, agent = [], [], []
    for node in config.nodes:
        if node.is_section and VTY_SECTION.match(node.text):
            bound = [found.group("acl") for child in node.children if child.kind == LINE
                     and (found := vty_acl.match(child.text))]
            if bound:
                vty.append(acl(bound[-1]))
        elif node.kind == LINE:
            if (pattern := GLOBAL_VTY_ACL.get(device.platform)) and (found := pattern.match(node.text)):
                vty.append(acl(found.group("acl")))
            elif (pattern := SNMP_AGENT_ACL.get(device.platform)) and (found := pattern.match(node.text)):
                agent.append(acl(found.group("acl")))
            elif found := community.match(node.text):
                name = _community_acl(ios, found.group("rest").split())
                communities.append(None if name is None else acl(name))
    shutdown = [node.text.split(None, 1)[1] for node in interfaces_of(config) if is_shutdown(node)]
    carriers = _management_interfaces(state, config)
    document = {"version": VERSION, "device": device.name,
                "cut": [name for name in shutdown if interface_key(name) in carriers], "shutdown": shutdown,
                "vty": vty, "snmp_communities": communities, "snmp_agent": agent}
    if ignored:
        document["ignored_rules"] = sorted(set(ignored))  # for whoever reads the file; the reader skips it
    return document


def _dotted(value: int) -> str:
    return ".".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))


def _community_acl(ios: bool, words: list[str]) -> str | None:
    """The IPv4 ACL a community line names, or None (no ACL, or one for IPv6 only)."""
    if ios:  # snmp-server community X [view V] [RO|RW] [ipv6 NAME] [ACL]
        index = 0
        while index < len(words):
            word = words[index].lower()
            if word in ("view", "ipv6"):
                index += 2
            elif word in ("ro", "rw"):
                index += 1
            else:
                return words[index]
        return None
    for index, word in enumerate(words[:-1]):  # ... [mib-view V] [acl N | acl name X | acl ipv6 N]
        if word == "acl":
            rest = words[index + 1:]
            if rest[0] == "ipv6":
                return None
            if rest[0] in ("name", "ipv4") and len(rest) > 1:
                return rest[1]
            return rest[0]
    return None


def _management_interfaces(state, config: ConfigTree) -> set[str]:
    """The interfaces management rides over: the uplink towards the core, and any holding the management address."""
    carriers = set()
    uplink = state.index.uplinks.get(state.device.name)
    if uplink is not None:
        carriers.add(interface_key(uplink.local_interface))
    for node in interfaces_of(config):
        if interface_ip(node) == state.device.address:
            carriers.add(interface_key(node.text.split(None, 1)[1]))
    return carriers


def log_ignored_rules(name: str, document: dict) -> None:
    if document.get("ignored_rules"):
        log.warning("%s: management ACL rules the lab does not evaluate, ignored: %s", name,
                    "; ".join(document["ignored_rules"])[:500])


# -- applying a binding: a newer one replaces the older of its kind ------------------------------------------
def binding_key(section: Node | None, line: str) -> tuple | None:
    """What kind of management binding a config line is (None: not one); lines of one kind replace each other."""
    if section is not None:
        if VTY_SECTION.match(section.text) and (found := VTY_BINDING.match(line)):
            return ("vty", found.group("v6") or "", found.group("dir") or found.group("ios_dir"))
        return None
    if found := GLOBAL_BINDING.match(line):
        return (found.group("kind"),)
    for pattern in (COMMUNITY, IOS_COMMUNITY):
        if found := pattern.match(line):
            return ("community", found.group("name"))
    return None


def apply_binding(config: ConfigTree, section: Node | None, line: str) -> bool:
    """Apply `line` if it is a management binding (True): it takes the place of the one of its kind there."""
    line = " ".join(line.split())
    key = binding_key(section, line)
    if key is None:
        return False
    target = config.nodes if section is None else section.children
    same = [n for n, node in enumerate(target) if node.kind == LINE and binding_key(section, node.text) == key]
    if not same:
        target.append(Node(line))
        return True
    target[same[0]] = Node(line)
    for index in reversed(same[1:]):
        del target[index]
    return True


# -- the state files -------------------------------------------------------------------------------------
class Publisher:
    """Writes the devices' state files under `<state-dir>/mgmt/`, atomically, each mtime_ns later than the last."""

    def __init__(self, state_dir: Path | str):
        self.directory = Path(state_dir) / "mgmt"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.mtimes: dict[str, int] = {}

    def path(self, name: str) -> Path | None:
        return self.directory / f"{name}.json" if SAFE_NAME.match(name) else None

    def reset(self, names) -> int:
        """Remove the files (and stale temporary files) of these devices, left by a previous run."""
        names, removed = set(names), 0
        for entry in os.scandir(self.directory):
            stem = entry.name.lstrip(".").split(".json")[0]
            if stem in names:
                try:
                    os.unlink(entry.path)
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def write(self, name: str, document: dict) -> None:
        path = self.path(name)
        if path is None:
            log.warning("%r: no management state file for a device with that name", name)
            return
        tmp = self.directory / f".{name}.json.{os.getpid()}.tmp"
        try:
            tmp.write_bytes(json.dumps(document, sort_keys=True).encode())
            # Readers cache by (inode, mtime_ns, size): every version gets a later mtime, whatever the clock does.
            mtime = max(time.time_ns(), self.mtimes.get(name, 0) + 1_000_000)
            os.utime(tmp, ns=(mtime, mtime))
            os.replace(tmp, path)
            self.mtimes[name] = mtime
        except OSError:
            log.exception("%s: could not write the management state %s", name, path)


# -- lab-only faults ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class Rescue:
    """The lab console's rescue: the config to put back, and when (after the next cut)."""

    config: ConfigTree
    seconds: int
    handle: asyncio.TimerHandle | None = None


def lab_fault(state, words: list[str]) -> str:
    """The hidden `lab-fault ...` command (see the module docstring)."""
    verb = words[0].lower() if words else ""
    if not words:
        armed = []
        if state.drop_session_after is not None:
            armed.append(f"drop-session-after: {state.drop_session_after} more config line(s) accepted")
        if state.rescue is not None:
            armed.append(f"rescue-after: {state.rescue.seconds} seconds after the console next loses SSH"
                         + (" (running)" if state.rescue.handle is not None else ""))
        return "\n".join(armed) or "Lab faults: none armed"
    if verb == "clear" and len(words) == 1:
        state.drop_session_after = None
        cancel_rescue(state)
        return "Lab faults: cleared"
    if verb in ("drop-session-after", "rescue-after") and len(words) == 2 and words[1].isdigit():
        number = int(words[1])
        if verb == "drop-session-after" and number <= MAX_FAULT_LINES:
            state.drop_session_after = number
            return f"Lab fault armed: the config line after the next {number} drops the session"
        if verb == "rescue-after" and 1 <= number <= MAX_RESCUE_SECONDS:
            cancel_rescue(state)
            state.rescue = Rescue(state.running.copy(), number)
            return f"Lab fault armed: {number} seconds after the console next loses SSH, this config comes back"
    return FAULT_USAGE


def drop_due(state, config_mode: bool, line: str) -> bool:
    """Count a line typed in config mode against `drop-session-after`; True when this line must drop the session."""
    if state.drop_session_after is None or not config_mode or not line.strip():
        return False
    if state.drop_session_after == 0:
        state.drop_session_after = None  # one-shot
        return True
    state.drop_session_after -= 1
    return False


def start_rescue(state) -> None:
    """The console just lost SSH to the device: start the armed rescue's timer, if any."""
    rescue = state.rescue
    if rescue is None or rescue.handle is not None:
        return
    rescue.handle = asyncio.get_running_loop().call_later(rescue.seconds * state.timer_scale, _rescue_due, state,
                                                          rescue)
    log.info("%s: the lab console lost SSH; it puts the config back in %d s (nominal)", state.device.name,
             rescue.seconds)


def stop_rescue(state) -> None:
    """The console has SSH again before the rescue fired: the rescue is spent."""
    if state.rescue is not None and state.rescue.handle is not None:
        cancel_rescue(state)


def cancel_rescue(state) -> None:
    if state.rescue is not None and state.rescue.handle is not None:
        state.rescue.handle.cancel()
    state.rescue = None


def _rescue_due(state, rescue: Rescue) -> None:
    if state.rescue is not rescue:
        return
    state.rescue = None
    try:
        state.replace_running(rescue.config, "lab", "lab-fault rescue")
    except Exception:  # a timer must not take the lab down
        log.exception("%s: the lab console rescue failed", state.device.name)
    else:
        log.info("%s: the lab console put the config back", state.device.name)

