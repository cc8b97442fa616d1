"""The H3C/HPE Comware driver (NAPALM NetworkDriver over netmiko's `hp_comware`).

Pushing: Comware applies each line at once. Before a push the running config is saved as a checkpoint file
(`save flash:/onenet-rollback.cfg`); a refused line, or rollback(), restores it with `configuration replace
file`. The commit-confirm is Comware 7's own: `configuration commit delay MINUTES` before the lines, then
`configuration commit` confirms; unconfirmed, the device restores its config of before by itself.
"""

from __future__ import annotations

import math
import re

from platforms.driver import CliDriver, DriverError, LineRefused
from platforms.parsing import uptime_seconds

CHECKPOINT = "flash:/onenet-rollback.cfg"


class HpComwareDriver(CliDriver):
    slug = "hp_comware"
    config_command = "display current-configuration"
    startup_command = "display saved-configuration"
    version_command = "display version"
    arp_command = "display arp"
    mac_command = "display mac-address"
    lldp_command = "display lldp neighbor-information list"
    interfaces_command = "display interface brief"
    prompt_pattern = r"[>\]]\s*$"
    config_prompt_pattern = r"\]\s*$"
    exit_config_command = "return"
    logout_command = "quit"
    section_exit = "quit"
    error_pattern = re.compile(r"^\s*%\s*(Unrecognized|Incomplete|Wrong|Too many)|^\s*Error:", re.MULTILINE)

    def parse_version(self, output: str) -> dict:
        facts = {}
        if found := re.search(r"Software,? Version\s+([\w.]+)(?:,\s*Release\s+(\w+))?", output):
            facts["os_version"] = found.group(1) + (f" Release {found.group(2)}" if found.group(2) else "")
        if found := re.search(r"^(?:H3C|HPE?)\s+(\S+)\s+uptime is (.+)$", output, re.MULTILINE):
            facts["model"], facts["uptime"] = found.group(1), uptime_seconds(found.group(2))
        return facts

    # -- pushing ------------------------------------------------------------------------------------
    def _system_view(self) -> None:
        self.session.send_command("system-view", expect_string=r"\]\s*$", read_timeout=self.info.timeout)

    def _user_view(self) -> None:
        self.leave_config_mode(self.session)

    def _checkpoint(self) -> None:
        output = self.ask(f"save {CHECKPOINT}", r"\[Y/N\]", "Y")
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_COMMIT_FAILED", f"{self.who} could not save the checkpoint {CHECKPOINT} "
                                                      f"before the change: {output.strip()[:200]}")

    def _restore_checkpoint(self) -> None:
        self._system_view()
        output = self.run(f"configuration replace file {CHECKPOINT}", read_timeout=120)
        self._user_view()
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_ROLLBACK_FAILED", f"{self.who} did not restore {CHECKPOINT}: "
                                                        f"{output.strip()[:200]}")

    def _delay_running(self) -> bool:
        return bool(re.search(r"\d+ seconds? left", self.run("display configuration commit delay")))

    def push(self, lines: list[str], message: str, revert_in: int | None) -> None:
        self._checkpoint()
        self._system_view()
        if revert_in:
            self.run(f"configuration commit delay {max(1, math.ceil(int(revert_in) / 60))}")
        try:
            self.send_config_lines(lines)
        except LineRefused:
            if revert_in:
                self.run("configuration commit")  # stop the timer: the checkpoint is restored right now
            self._user_view()
            self._restore_checkpoint()
            raise
        self._user_view()
        self._rollback_point = CHECKPOINT

    def has_pending_commit(self) -> bool:
        return self.session is not None and self._delay_running()

    def confirm_commit(self) -> None:
        if not self._delay_running():
            raise DriverError("DRIVER_NO_PENDING_COMMIT", f"{self.who} has no commit waiting for confirmation.")
        self._system_view()
        self.run("configuration commit")
        self._user_view()

    def rollback(self) -> None:
        if self._delay_running():
            self._system_view()
            self.run("configuration commit")
            self._user_view()
        self._restore_checkpoint()
