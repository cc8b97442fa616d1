"""The Ruijie RGOS driver (NAPALM NetworkDriver over netmiko's `ruijie_os`).

RGOS speaks an IOS-like CLI, but its tables differ from IOS's (ages, "GigabitEthernet 0/1") and ntc-templates
has none for it, so ARP and MAC tables are read here; `show lldp neighbors` has IOS's layout and IOS's
template reads it. RGOS has no commit-confirm of its own: commit_config(revert_in=) arms a local revert
timer that restores the pre-change checkpoint (`configure replace flash:onenet-rollback force`).
"""

from __future__ import annotations

import re

from platforms.ios_family import IosFamilyDriver
from platforms.parsing import normalise_mac

_MAC = r"[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}"
# An RGOS interface in a table: "GigabitEthernet 0/1", "AggregatePort 1", "VLAN 10" (type, space, number).
_INTERFACE = r"[A-Za-z][A-Za-z-]*\s?\d[\d/.:]*"


class RuijieOsDriver(IosFamilyDriver):
    slug = "ruijie_os"
    arp_command = "show arp"
    mac_command = "show mac-address-table"
    lldp_command = "show lldp neighbors"
    templates = {"show lldp neighbors": ("cisco_ios", "show lldp neighbors")}

    def parse_version(self, output: str) -> dict:
        facts = {}
        if found := re.search(r"System description\s*:.*?(\S+)\s+\(RGOS ([^)]+)\)", output):
            facts["model"], facts["os_version"] = found.group(1), found.group(2)
        if found := re.search(r"System uptime\s*:\s*(\d+):(\d+):(\d+):(\d+)", output):
            days, hours, minutes, seconds = (int(g) for g in found.groups())
            facts["uptime"] = float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)
        if found := re.search(r"System serial number\s*:\s*(\S+)", output):
            facts["serial_number"] = found.group(1)
        return facts

    def parse_arp(self, output: str) -> list[dict]:
        """`show arp`: Protocol, Address, Age(min) (or <static>), Hardware, Type, Interface."""
        rows = []
        for line in output.splitlines():
            found = re.match(rf"^\s*Internet\s+(\d+\.\d+\.\d+\.\d+)\s+\S+\s+({_MAC})\s+\S+\s+({_INTERFACE})", line)
            if found:
                rows.append({"ip": found[1], "mac": normalise_mac(found[2]), "interface": found[3]})
        return rows

    def parse_mac_table(self, output: str) -> list[dict]:
        """`show mac-address-table`: Vlan, MAC Address, Type, Interface, Live Time."""
        rows = []
        for line in output.splitlines():
            found = re.match(rf"^\s*(\d+)\s+({_MAC})\s+\S+\s+({_INTERFACE})", line)
            if found:
                rows.append({"mac": normalise_mac(found[2]), "vlan": int(found[1]), "port": found[3]})
        return rows

    def push(self, lines: list[str], message: str, revert_in: int | None) -> None:
        self.push_lines(lines)
        if revert_in:
            self.arm_local_revert(int(revert_in), lambda driver: driver._restore_checkpoint())

    def confirm_commit(self) -> None:
        self.confirm_local_revert()

    def rollback(self) -> None:
        if self.has_pending_commit():
            self._revert_timer.cancel()
        self._restore_checkpoint()
