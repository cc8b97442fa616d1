"""The Huawei VRP driver (NAPALM NetworkDriver over netmiko's `huawei`).

Pushing: VRP8 devices are two-stage (system view edits a candidate; `commit` applies it): a refused line
aborts the candidate, and `commit trial SECONDS` is the device's own commit-confirm (`commit` confirms, `abort
trial` rolls back, `display configuration trial status` tells). VRP5 devices apply each line at once: the
pre-change commit point is noted first, a refused line rolls back to it, and the commit-confirm is a local
revert timer that rolls back to it (`rollback configuration to commit-id ID`).
"""

from __future__ import annotations

import re

from platforms.driver import CliDriver, DriverError, LineRefused
from platforms.parsing import uptime_seconds

TRIAL_SECONDS = (60, 65535)  # what `commit trial` accepts


class HuaweiVrpDriver(CliDriver):
    slug = "huawei_vrp"
    config_command = "display current-configuration"
    startup_command = "display saved-configuration"
    version_command = "display version"
    arp_command = "display arp"
    mac_command = "display mac-address"
    lldp_command = "display lldp neighbor brief"
    interfaces_command = "display interface brief"
    volatile_patterns = (r"^!Last configuration was (updated|saved) at", r"^!Software Version", r"^!Time:")
    prompt_pattern = r"[>\]]\s*$"
    config_prompt_pattern = r"\]\s*$"
    exit_config_command = "return"
    logout_command = "quit"
    section_exit = "quit"
    # `display arp` prints the same table as `display arp all`, which ntc-templates has a template for.
    templates = {"display arp": ("huawei_vrp", "display arp all")}

    def parse_version(self, output: str) -> dict:
        facts = {}
        if found := re.search(r"Version\s+([\d.]+)\s*\((\S+)\s+(\S+)\)", output):
            facts["model"], facts["os_version"] = found.group(2), f"{found.group(1)} ({found.group(3)})"
        if found := re.search(r"uptime is (.+)", output):
            facts["uptime"] = uptime_seconds(found.group(1))
        return facts

    def parse_lldp(self, output: str) -> list[dict]:
        """`display lldp neighbor brief` (no ntc-templates template): Local Intf, Neighbor Dev, Neighbor Intf,
        Exptime(s). The neighbour's port is as it announces it, which may hold a space ("GigabitEthernet 0/1"
        from RGOS)."""
        rows = []
        for line in output.splitlines():
            found = re.match(r"^\s*(\S+)\s+(\S.*?)\s+([A-Za-z][\w.-]*\s\d\S*|\S+)\s+(\d+)\s*$", line)
            if found and not line.lstrip().startswith("Local Intf"):
                rows.append({"local_port": found[1], "neighbor_name": found[2], "neighbor_port": found[3]})
        return rows

    def leave_config_mode(self, session) -> None:
        """`return` to user view; an unfinished VRP8 candidate is discarded (N), never committed on the way out."""
        session.write_channel(self.exit_config_command + session.RETURN)
        answer = session.read_until_pattern(pattern=r">\s*$|\[Y\(yes\)/N\(no\)/C\(cancel\)\]:", read_timeout=5)
        if "[Y(yes)" in answer:
            session.write_channel("N" + session.RETURN)
            session.read_until_pattern(pattern=r">\s*$", read_timeout=5)

    # -- pushing ------------------------------------------------------------------------------------
    def _system_view(self) -> bool:
        """Enter system view; True on a two-stage (VRP8) device, whose prompt reads `[~name]`."""
        output = self.session.send_command("system-view", expect_string=r"\]\s*$", read_timeout=self.info.timeout,
                                           strip_prompt=False)
        return bool(re.search(r"\[[~*]", output))

    def _user_view(self) -> None:
        self.leave_config_mode(self.session)

    def _latest_commit_id(self) -> str | None:
        found = re.search(r"^\s*\d+\s+(\d{6,})\s", self.run("display configuration commit list"), re.MULTILINE)
        return found.group(1) if found else None

    def _rollback_to(self, commit_id: str) -> None:
        output = self.run(f"rollback configuration to commit-id {commit_id}")
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_ROLLBACK_FAILED", f"{self.who} did not roll back to commit {commit_id}: "
                                                        f"{output.strip()[:200]}")

    def _trial_running(self) -> bool:
        return bool(re.search(r"Trial status\s*:\s*running", self.run("display configuration trial status")))

    def push(self, lines: list[str], message: str, revert_in: int | None) -> None:
        before = self._latest_commit_id()
        two_stage = self._system_view()
        try:
            self.send_config_lines(lines)
        except LineRefused:
            if two_stage:
                self.run("abort")
            self._user_view()
            if not two_stage and before:
                self._rollback_to(before)
            raise
        if two_stage:
            if revert_in:
                seconds = min(max(int(revert_in), TRIAL_SECONDS[0]), TRIAL_SECONDS[1])
                output = self.run(f"commit trial {seconds}")
            else:
                output = self.run("commit" + (f" description {message[:60]}" if message else ""))
            if self.error_pattern.search(output):
                self.run("abort")
                self._user_view()
                raise DriverError("DRIVER_COMMIT_FAILED", f"{self.who} refused the commit: {output.strip()[:200]}")
        self._user_view()  # a one-stage device records its commit point on the way out
        self._rollback_point = before
        if revert_in and not two_stage and before:
            self.arm_local_revert(revert_in, lambda driver: driver._rollback_to(before))

    def has_pending_commit(self) -> bool:
        return super().has_pending_commit() or (self.session is not None and self._trial_running())

    def confirm_commit(self) -> None:
        if super().has_pending_commit():
            self.confirm_local_revert()
            return
        if not self._trial_running():
            raise DriverError("DRIVER_NO_PENDING_COMMIT", f"{self.who} has no commit waiting for confirmation.")
        self._system_view()
        self.run("commit")
        self._user_view()

    def rollback(self) -> None:
        if super().has_pending_commit():
            self._revert_timer.cancel()
        elif self._trial_running():
            self._system_view()
            self.run("abort trial")
            self._user_view()
            return
        if self._rollback_point is None:
            raise DriverError("DRIVER_ROLLBACK_FAILED", f"nothing was committed to {self.who} in this session.")
        self._rollback_to(self._rollback_point)
