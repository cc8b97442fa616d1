"""The Cisco IOS driver (NAPALM NetworkDriver over netmiko's `cisco_ios`).

Pushing: the running config is first copied to `flash:onenet-rollback`; a refused line, or rollback(), puts
it back with `configure replace ... force`. The commit-confirm is IOS's own: `configure terminal revert timer
MINUTES` enters config mode with the archive's rollback timer running; `configure confirm` keeps the change,
`configure revert now` undoes it, `show archive config rollback timer` tells.
"""

from __future__ import annotations

import math
import re

from platforms.driver import DriverError
from platforms.ios_family import IosFamilyDriver
from platforms.parsing import uptime_seconds

REVERT_MINUTES = (1, 120)  # what `revert timer` accepts


class CiscoIosDriver(IosFamilyDriver):
    slug = "cisco_ios"
    arp_command = "show ip arp"
    mac_command = "show mac address-table"
    lldp_command = "show lldp neighbors"
    volatile_patterns = (*IosFamilyDriver.volatile_patterns, r"^ntp clock-period ")

    def parse_version(self, output: str) -> dict:
        facts = {}
        if found := re.search(r"Version\s+([^\s,]+)", output):
            facts["os_version"] = found.group(1)
        if found := re.search(r"^Model number\s*:\s*(\S+)", output, re.MULTILINE):
            facts["model"] = found.group(1)
        if found := re.search(r"uptime is (.+)", output):
            facts["uptime"] = uptime_seconds(found.group(1))
        if found := re.search(r"Processor board ID (\S+)", output):
            facts["serial_number"] = found.group(1)
        return facts

    def _timer_running(self) -> bool:
        return "No Rollback Confirmed Change pending" not in self.run("show archive config rollback timer")

    def push(self, lines: list[str], message: str, revert_in: int | None) -> None:
        configure = "configure terminal"
        if revert_in:
            minutes = min(max(math.ceil(int(revert_in) / 60), REVERT_MINUTES[0]), REVERT_MINUTES[1])
            configure = f"configure terminal revert timer {minutes}"
        self.push_lines(lines, configure)

    def undo_push(self) -> None:
        if self._timer_running():
            self.run("configure revert now")
        else:
            self._restore_checkpoint()

    def has_pending_commit(self) -> bool:
        return self.session is not None and self._timer_running()

    def confirm_commit(self) -> None:
        output = self.run("configure confirm")
        if "No Rollback Confirmed Change pending" in output:
            raise DriverError("DRIVER_NO_PENDING_COMMIT", f"{self.who} has no commit waiting for confirmation.")

    def rollback(self) -> None:
        self.undo_push()
