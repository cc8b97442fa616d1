"""Reaching a device for a change, and reading what it holds.

SSH goes through the device's pinned host key (collectors.services.hostkeys), with the driver's in-process
revert timer off: the pipeline keeps its own durable deadline, and a confirm may come from another process.
SNMP answers are checked on one event loop of this process's own, so worker threads can ask at once (the SNMP
client keeps one engine per loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import replace

from collectors.services.hostkeys import after_session, connection_info
from collectors.services.targets import snmp_target
from collectors.snmp.client import SYS_UPTIME, SnmpError, get_scalars
from inventory.models import Device
from platforms import CliDriver, DriverError, open_driver
from platforms.config import DECORATION

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def open_device(device: Device) -> CliDriver:
    """The device's driver, not yet open (use it as a context manager)."""
    return open_driver(device.platform, replace(connection_info(device), local_revert=False))


def remember_key(device: Device, driver: CliDriver | None, error: DriverError | None = None) -> None:
    """Pin a first-seen host key, or keep a refused one for review (as a backup does)."""
    after_session(device, driver.host_key if driver else None, bool(driver and driver.host_key_first_use), error)


def _snmp_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="change-snmp", daemon=True).start()
        return _loop


def snmp_answers(device: Device) -> bool:
    """Whether the device answers an SNMP GET of sysUpTime with its inventory credential now."""
    try:
        target = snmp_target(device)
    except Exception:  # noqa: BLE001 - an unreadable credential: SNMP cannot be checked, which reads as "no answer"
        return False
    future = asyncio.run_coroutine_threadsafe(get_scalars(target, [SYS_UPTIME]), _snmp_loop())
    try:
        return bool(future.result(timeout=float(target.deadline) + 5))
    except (SnmpError, TimeoutError):
        future.cancel()
        return False


def config_lines(platform, text: str) -> Counter:
    """The config's lines, each with the section it is in, in no order: a device prints its own order (a line
    restored after others may show after them in one, before them in another), so order is not compared."""
    lines = Counter()
    for node in platform.parse(text).nodes:
        if node.kind == DECORATION:
            continue
        lines[("", node.text)] += 1
        for child in node.children or ():
            if child.kind != DECORATION:
                lines[(node.text, child.indent + child.text)] += 1
    return lines


def same_config(platform, one: str, other: str) -> bool:
    """Whether two configs hold the same lines in the same sections."""
    return config_lines(platform, one) == config_lines(platform, other)


def lines_present(platform, config: str, lines: list[str]) -> bool:
    """Whether the config already holds what `lines` ask for: applying them again changes nothing."""
    tree = platform.parse(config)
    return tree.lines() == tree.copy().apply_lines(lines).lines()


def section_diff(platform, before: str, after: str, name: str = "") -> str:
    """What changes between two configs, section by section: each changed line under its section's opener (a
    plain unified diff loses the opener of a long section, and the reviewer with it). Lines as in a unified diff:
    "+" added, "-" removed, " " the section it is in."""
    old, new = platform.parse(before), platform.parse(after)
    out = []

    def block(sign: str, node) -> None:
        out.append(sign + node.text)
        out.extend(sign + child.indent + child.text for child in node.children or () if child.kind != DECORATION)

    def key(node):
        return (node.kind, node.text)

    old_nodes = {key(n): n for n in old.nodes if n.kind != DECORATION}
    new_nodes = {key(n): n for n in new.nodes if n.kind != DECORATION}
    for node in old.nodes:
        if node.kind != DECORATION and key(node) not in new_nodes:
            block("-", node)
    for node in new.nodes:
        if node.kind == DECORATION:
            continue
        before_node = old_nodes.get(key(node))
        if before_node is None:
            block("+", node)
        elif node.children is not None:
            was = [c.indent + c.text for c in before_node.children or () if c.kind != DECORATION]
            now = [c.indent + c.text for c in node.children if c.kind != DECORATION]
            removed, added = Counter(was) - Counter(now), Counter(now) - Counter(was)
            if removed or added:
                out.append(" " + node.text)
                out.extend("-" + line for line in was if _take(removed, line))
                out.extend("+" + line for line in now if _take(added, line))
    if not out:
        return ""
    return "\n".join([f"--- {name} (running)", f"+++ {name} (after the change)", *out])


def _take(counter: Counter, line: str) -> bool:
    """Whether `line` is still counted (and count it off): each repeated line is shown as often as it changed."""
    if counter[line] > 0:
        counter[line] -= 1
        return True
    return False
