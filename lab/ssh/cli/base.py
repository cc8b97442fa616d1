"""What every vendor CLI shares: the per-device state, command matching, output filters and the
tables (ARP, MAC, LLDP) derived from the topology.

Confirmed changes (VRP8 `commit trial`, Comware `configuration commit delay`, IOS `configure terminal revert
timer`) share one mechanism here: `DeviceState.start_revert` remembers the configuration to go back to and
schedules the rollback on the running asyncio loop (`call_later`), so it fires with no session open; any session
of the device can confirm (`confirm_revert`), roll back at once (`revert_now`) or read the time left.  Every
duration is multiplied by the lab's `timer_scale` (1.0 real time; tests run at 0.05), and the time left is shown
in the device's own (nominal) seconds.  The loop runs one command at a time, so a timer never fires in the middle
of a command; when it fires, the running config is replaced, a commit point recorded, and every open session is
told (`Cli.running_replaced`) so no session keeps editing a config that no longer exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import platforms
from lab.ssh.configs import LabIndex, generate_config, is_switch, is_two_stage
from lab.topology import Device
from platforms.config import ConfigTree

if TYPE_CHECKING:
    from lab.ssh.management import Rescue

log = logging.getLogger(__name__)
OUI = {"huawei_vrp": "00e0fc", "hp_comware": "3891d5", "cisco_ios": "a0f849", "ruijie_os": "00d0f8"}
STARTED = time.time()
FIRST_COMMIT_ID = 1000000001


@dataclass
class Commit:
    commit_id: int
    user: str
    when: datetime
    config: ConfigTree  # the configuration right after this commit
    label: str = "-"
    comment: str = ""


@dataclass(eq=False)
class PendingRevert:
    """A change that rolls back by itself unless it is confirmed in time."""

    kind: str  # "trial" (VRP8), "commit-delay" (Comware), "revert-timer" (IOS)
    before: ConfigTree  # the configuration the rollback goes back to
    user: str  # who started it (the rollback's commit point is theirs)
    comment: str  # the comment of the rollback's commit point
    seconds: int  # the nominal duration as typed (minutes are converted)
    handle: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop | None = None


@dataclass
class DeviceState:
    """One device's configuration state, shared by all its SSH sessions, in memory for the process's life."""

    device: Device
    index: LabIndex
    _running: ConfigTree | None = None
    saved: ConfigTree | None = None
    commits: list[Commit] = field(default_factory=list)
    files: dict[str, ConfigTree] = field(default_factory=dict)  # flash: files (checkpoints, archives)
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    changed_by: str = "onenet"
    timer_scale: float = 1.0  # multiplies every revert timer's duration (tests run the lab at 0.05)
    pending: PendingRevert | None = None  # the one unconfirmed change with a rollback timer, if any
    sessions: weakref.WeakSet = field(default_factory=weakref.WeakSet, repr=False, compare=False)
    # Told when a timer (or another session) replaces the running config: the lab re-reads the management plane.
    on_change: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    # Lab-only faults (`lab-fault`, lab/ssh/management.py): config lines still accepted before the session drops,
    # and the lab console's rescue of a device cut off.
    drop_session_after: int | None = None
    rescue: Rescue | None = None

    @property
    def running(self) -> ConfigTree:
        # Configs are built on first use so a few thousand devices start in seconds.
        if self._running is None:
            self._running = platforms.get(self.device.platform).parse(generate_config(self.device, self.index))
            self.saved = self._running.copy()
            self.commits.append(Commit(FIRST_COMMIT_ID, "onenet", self.changed_at, self._running.copy(), "initial"))
        return self._running

    @running.setter
    def running(self, config: ConfigTree) -> None:
        self._running = config
        self.changed_at = datetime.now(UTC)

    @property
    def two_stage(self) -> bool:
        return is_two_stage(self.device)

    @property
    def switch(self) -> bool:
        return is_switch(self.device)

    def hostname(self) -> str:
        for node in self.running.nodes:
            if node.children is None and node.text.startswith(("sysname ", "hostname ")):
                return node.text.split(None, 1)[1]
        return self.device.name

    def record_commit(self, user: str, label: str = "-", comment: str = "") -> Commit:
        """A commit point holding the current running config (numbered like VRP8 commit ids)."""
        self.running  # noqa: B018 - make sure the initial commit exists
        commit = Commit(self.commits[-1].commit_id + 1, user, datetime.now(UTC), self.running.copy(),
                        label or "-", comment)
        self.commits.append(commit)
        self.changed_by = user
        self.changed_at = commit.when
        return commit

    # -- confirmed changes --------------------------------------------------------------------
    def start_revert(self, kind: str, seconds: int, before: ConfigTree, user: str, comment: str) -> PendingRevert:
        """Go back to `before` in `seconds` (nominal; scaled by `timer_scale`) unless confirmed first."""
        if self.pending is not None:
            raise RuntimeError(f"{self.device.name}: a {self.pending.kind} rollback is already pending")
        pending = PendingRevert(kind, before.copy(), user, comment, seconds, loop=asyncio.get_running_loop())
        self.pending = pending
        self._schedule(pending, seconds)
        return pending

    def reset_revert(self, seconds: int) -> PendingRevert | None:
        """Restart the pending rollback's timer with a new duration (the config to go back to stays)."""
        pending = self.pending
        if pending is not None:
            pending.handle.cancel()
            pending.seconds = seconds
            self._schedule(pending, seconds)
        return pending

    def confirm_revert(self) -> PendingRevert | None:
        """Keep the change: stop the timer. The pending rollback it cancelled, or None."""
        pending, self.pending = self.pending, None
        if pending is not None and pending.handle is not None:
            pending.handle.cancel()
        return pending

    def revert_now(self, user: str, comment: str) -> PendingRevert | None:
        """Roll the pending change back at once. The rollback done, or None if nothing was pending."""
        pending = self.confirm_revert()
        if pending is not None:
            self.replace_running(pending.before, user, comment)
        return pending

    def revert_seconds_left(self) -> int | None:
        """Nominal seconds (the device's own, unscaled) until the pending rollback; None if none is pending."""
        pending = self.pending
        if pending is None:
            return None
        left = max(0.0, pending.handle.when() - pending.loop.time()) / self.timer_scale
        return min(pending.seconds, math.ceil(left - 1e-6))

    def replace_running(self, config: ConfigTree, user: str, comment: str) -> Commit:
        """The running config becomes `config`, as a commit point; every open session follows."""
        self.running = config.copy()
        commit = self.record_commit(user, "-", comment)
        for cli in list(self.sessions):
            cli.running_replaced()
        if self.on_change is not None:
            self.on_change()
        return commit

    def _schedule(self, pending: PendingRevert, seconds: int) -> None:
        pending.handle = pending.loop.call_later(seconds * self.timer_scale, self._revert_due, pending)

    def _revert_due(self, pending: PendingRevert) -> None:
        if self.pending is not pending:
            return  # confirmed, reset or rolled back in the meantime
        self.pending = None
        try:
            self.replace_running(pending.before, pending.user, pending.comment)
        except Exception:  # a timer must not take the lab down
            log.exception("%s: the %s rollback failed", self.device.name, pending.kind)
        else:
            log.info("%s: unconfirmed %s change rolled back", self.device.name, pending.kind)

    def cancel_timers(self) -> None:
        """Stop the pending timer without rolling back (the lab is shutting down)."""
        if self.pending is not None and self.pending.handle is not None:
            self.pending.handle.cancel()
        if self.rescue is not None and self.rescue.handle is not None:
            self.rescue.handle.cancel()

    def uptime_seconds(self) -> int:
        offset = int(hashlib.sha256(self.device.name.encode()).hexdigest()[:6], 16) % (90 * 86400)
        return int(time.time() - STARTED) + 3600 + offset


# -- command matching ----------------------------------------------------------------------------
def match(tokens: list[str], spec: str) -> list[str] | None:
    """If the tokens start with an abbreviation of `spec` (each word a prefix), the remaining tokens."""
    words = spec.split()
    if len(tokens) < len(words):
        return None
    for token, word in zip(tokens, words, strict=False):
        token = token.lower()
        if not token or not word.startswith(token):
            return None
    return tokens[len(words):]


def dispatch(tokens: list[str], table: list[tuple[str, object]]):
    """The handler of the longest spec that matches, and the remaining tokens; (None, None) if none."""
    best = None
    for spec, handler in table:
        rest = match(tokens, spec)
        if rest is not None and (best is None or len(spec.split()) > len(best[0].split())):
            best = (spec, handler, rest)
    if best is None:
        return None, None
    return best[1], best[2]


def bad_position(tokens: list[str], table: list[tuple[str, object]]) -> int:
    """How many leading tokens some spec accepted (where the caret goes)."""
    best = 0
    for spec, _ in table:
        words = spec.split()
        n = 0
        for token, word in zip(tokens, words, strict=False):
            if not word.startswith(token.lower()):
                break
            n += 1
        best = max(best, n)
    return best


def caret_offset(line: str, position: int) -> int:
    """Column (in the typed line) of the token at `position`."""
    column = 0
    for n, match_ in enumerate(re.finditer(r"\S+", line)):
        column = match_.start()
        if n == position:
            return column
    return len(line.rstrip()) + (1 if position else 0)


def expand_words(command: str, vocabulary, negations=("undo", "no")) -> str:
    """Expand an abbreviated first word (and the word after `undo`/`no`) to the unique vocabulary word."""
    words = command.split()

    def full(word):
        if word in vocabulary:
            return word
        candidates = [v for v in vocabulary if v.startswith(word.lower())]
        return candidates[0] if len(candidates) == 1 else word

    if not words:
        return command
    words[0] = full(words[0])
    if words[0] in negations and len(words) > 1:
        words[1] = full(words[1])
    return " ".join(words)


def apply_filter(text: str, pipe: str) -> str:
    """`| include X`, `| exclude X`, `| begin X`, `| section X` on a command's output."""
    parts = pipe.split(None, 1)
    if not parts:
        return text
    verb, pattern = parts[0].lower(), (parts[1] if len(parts) > 1 else "")
    lines = text.split("\n")
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(re.escape(pattern))
    if "include".startswith(verb) and verb:
        return "\n".join(line for line in lines if regex.search(line))
    if "exclude".startswith(verb) and verb:
        return "\n".join(line for line in lines if not regex.search(line))
    if "begin".startswith(verb) and verb:
        for n, line in enumerate(lines):
            if regex.search(line):
                return "\n".join(lines[n:])
        return ""
    if "section".startswith(verb) and verb:
        out, inside = [], False
        for line in lines:
            if not line.startswith(" "):
                inside = bool(regex.search(line))
            if inside:
                out.append(line)
        return "\n".join(out)
    return text


# -- addresses and names -----------------------------------------------------------------------------
def device_mac(device: Device) -> str:
    """A stable 12-hex-digit MAC for the device (vendor OUI + hash of the name)."""
    return OUI[device.platform] + hashlib.sha256(device.name.encode()).hexdigest()[:6]


def mac_huawei(mac: str) -> str:
    digits = mac.replace(":", "").replace(".", "").replace("-", "").lower()
    return f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}"


def mac_cisco(mac: str) -> str:
    return mac_huawei(mac).replace("-", ".")


@dataclass
class ArpEntry:
    ip: str
    mac: str
    interface: str
    dynamic: bool


def arp_table(state: DeviceState) -> list[ArpEntry]:
    """Own interface addresses, link neighbours and (on a gateway router) the end hosts behind it."""
    device, index = state.device, state.index
    own = device_mac(device)
    out = []
    by_interface = {n.local_interface: n for n in index.neighbours.get(device.name, [])}
    for iface in device.interfaces:
        if not iface.ip:
            continue
        out.append(ArpEntry(iface.ip.split("/")[0], own, iface.name, False))
        neighbour = by_interface.get(iface.name)
        if neighbour and neighbour.remote_ip:
            out.append(ArpEntry(neighbour.remote_ip, device_mac(index.devices[neighbour.device]), iface.name, True))
    for host in index.hosts_by_gateway.get(device.name, []):
        towards = next((n.local_interface for n in index.neighbours.get(device.name, []) if n.device == host.switch),
                       None)
        out.append(ArpEntry(host.ip, host.mac, towards or device.interfaces[-1].name, True))
    return out


@dataclass
class MacEntry:
    mac: str
    vlan: int
    interface: str


def mac_table(state: DeviceState) -> list[MacEntry]:
    """On an access switch: each host's MAC on its port, and the gateway's MAC on the uplink."""
    device, index = state.device, state.index
    out = []
    uplink = index.uplinks.get(device.name)
    if uplink and state.switch:
        out.append(MacEntry(device_mac(index.devices[uplink.device]), 1, uplink.local_interface))
    for host in index.hosts_by_switch.get(device.name, []):
        out.append(MacEntry(host.mac, 1, host.port))
    return out


@dataclass
class LldpNeighbour:
    local_interface: str
    name: str
    interface: str
    chassis: str
    platform: str
    address: str
    description: str
    model: str
    os_version: str
    vendor: str


def lldp_neighbours(state: DeviceState) -> list[LldpNeighbour]:
    index = state.index
    out = []
    for n in index.neighbours.get(state.device.name, []):
        other = index.devices[n.device]
        description = next((i.description for i in other.interfaces if i.name == n.interface), "")
        out.append(LldpNeighbour(n.local_interface, other.name, n.interface, device_mac(other), other.platform,
                                 other.address, description, other.model, other.os_version, other.vendor))
    return out


def uptime_words(seconds: int, weeks: bool = False) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if weeks:
        return f"{days // 7} weeks, {days % 7} days, {hours} hours, {minutes} minutes"
    return f"{days} days, {hours} hours, {minutes} minutes"


class Cli:
    """One SSH session's command line; `respond(line)` returns what the device prints, prompt included."""

    error_marker = "Error: Unrecognized command found at '^' position."

    def __init__(self, state: DeviceState, username: str):
        self.state = state
        self.username = username
        self.closed = False
        self.question = None  # a callable taking the answer, while the device waits for Y/N
        state.sessions.add(self)  # told when a timer (or another session) replaces the running config

    @property
    def platform(self):
        return platforms.get(self.state.device.platform)

    def abbreviate(self, name: str) -> str:
        """An interface name the way this platform's tables print it (GE0/0/1, GE1/0/1, Gi0/1)."""
        return self.platform.abbreviate_interface(name)

    def greeting(self) -> str:
        raise NotImplementedError

    def prompt(self) -> str:
        raise NotImplementedError

    @property
    def config_mode(self) -> bool:
        """In config mode (system view, `(config)#` and their sub-modes) rather than an exec view."""
        raise NotImplementedError

    def respond(self, line: str) -> str:
        if self.question is not None:
            question, self.question = self.question, None
            output = question(line.strip())
        else:
            output = self.run_line(line)
        if self.closed:
            return output
        if self.question is not None:
            return output  # the question text is the last thing on the line
        return (output + "\n" if output else "") + self.prompt()

    def run_line(self, line: str) -> str:
        """A typed line's output: the lab-only `lab-fault` command in an exec view, else the vendor's command."""
        words = line.split()
        if words and words[0].lower() == "lab-fault" and not self.config_mode:
            from lab.ssh.management import lab_fault

            return lab_fault(self.state, words[1:])
        return self.execute(line)

    def execute(self, line: str) -> str:
        raise NotImplementedError

    def running_replaced(self) -> None:
        """The running config was replaced under this session (a rollback timer fired, or another session rolled
        back): drop references into the old config."""

    def unrecognized(self, line: str, position: int) -> str:
        return self.caret_error(line, position, self.error_marker)

    def caret_error(self, line: str, position: int, message: str) -> str:
        """A caret under the token at `position` of the typed line, then the vendor's message."""
        column = len(self.prompt()) + caret_offset(line, position)
        return " " * column + "^\n" + message

    def run_with_pipe(self, line: str, run) -> str:
        command, _, pipe = line.partition("|")
        output = run(command)
        return apply_filter(output, pipe.strip()) if pipe else output
