"""What Cisco IOS and Ruijie RGOS share: the IOS-style config lines and CLI forms both write.

Both platforms own their package (platforms/cisco_ios, platforms/ruijie_os) and take from here only what the
two really have in common, so neither inherits the other's quirks.
"""

from __future__ import annotations

import re

from platforms.acl import DENY, INBOUND, OUTBOUND, PERMIT, EgressSyntax, RuleSyntax
from platforms.base import HostAcl
from platforms.driver import CliDriver, DriverError, LineRefused

CHECKPOINT = "flash:onenet-rollback"

# Lines kept once per section, banners and the noise around `show running-config`.
SINGLE_VALUED = re.compile(
    r"^(description|hostname|ip address(?! \S+ \S+ secondary)|exec-timeout|transport input|shutdown|"
    r"clock timezone|speed|duplex|mtu|ip nat (?:inside|outside)$|password|privilege level|"
    r"(?:permit|deny) \d+|\d+ (?:permit|deny)|banner (?:motd|login|exec|incoming))(?= |$)")
BANNER_START = re.compile(r"^(?P<kind>banner (?:motd|login|exec|incoming)) (?P<delimiter>\^C|\S)")
NOISE = re.compile(r"^(Building configuration|Current configuration\s*:)")
HOST_ACLS = {
    4: HostAcl(("ip access-list extended {acl}", " deny ip host {host} any", " permit ip any any"),
               "ip access-group {acl} in"),
    6: HostAcl(("ipv6 access-list {acl}", " deny ipv6 host {host} any", " permit ipv6 any any"),
               "ipv6 traffic-filter {acl} in"),
}

# What the egress policy reads and writes: `ip access-list extended NAME` (or numbered `access-list 101` lines) with
# `deny tcp any any eq 445` entries, bound by `ip access-group NAME in|out` (an ACL ends with an implicit deny),
# `ip route 0.0.0.0 0.0.0.0 NEXT-HOP|INTERFACE`, `ip nat inside source ... interface X overload` with the
# `ip nat outside` interfaces.
EGRESS = EgressSyntax(
    acl_opener=re.compile(r"^ip access-list (?P<kind>standard|extended) (?P<name>\S+)$"),
    rule_line=re.compile(rf"^(?:(?P<seq>\d+) )?(?P<body>(?:{PERMIT}|{DENY})\b.*)$"),
    rules=RuleSyntax("positional", frozenset({"log", "log-input"})),
    basic_kinds=frozenset({"standard"}), basic_numbers=((1, 99), (1300, 1999)),
    numbered_acl_line=re.compile(rf"^access-list (?P<name>\d+) (?:dynamic \S+ (?:timeout \d+ )?)?"
                                 rf"(?P<body>(?:{PERMIT}|{DENY})\b.*)$"),
    binding=re.compile(r"^ip access-group (?P<acl>\S+) (?P<direction>in|out)$"),
    directions={"in": INBOUND, "out": OUTBOUND}, default_action=DENY, step=10, first_sequence=1,
    default_route=re.compile(r"^(?P<head>ip route(?: vrf \S+)? 0\.0\.0\.0 0\.0\.0\.0) (?P<rest>.+)$"),
    route_dynamic=frozenset({"dhcp"}),
    nat_source=re.compile(r"^ip nat (?:inside )?source (?:list|route-map|static)\b.*?(?: interface (?P<interface>.+?))?"
                          r"(?: (?:overload|vrf \S+|reversible|extendable|no-payload|no-alias))*$"),
    nat_outside=re.compile(r"^ip nat outside$"),
    opener="ip access-list extended {acl}", named_opener="ip access-list extended {acl}", description="remark {text}",
    entry="{rule}", inserted_entry="{seq} {rule}",
    deny_port="deny {protocol} any any eq {port}", deny_from="deny ip {address} any", deny_to="deny ip any {address}",
    permit_rest="permit ip any any",
    bind={INBOUND: "ip access-group {acl} in", OUTBOUND: "ip access-group {acl} out"},
    resequence="ip access-list resequence {acl} {start} {step}", remove_rule="no {seq}",
    placeholder_interface="GigabitEthernet0/0")


class IosFamilyDriver(CliDriver):
    config_command = "show running-config"
    startup_command = "show startup-config"
    version_command = "show version"
    interfaces_command = "show ip interface brief"
    volatile_patterns = (r"^Building configuration", r"^Current configuration :", r"^! Last configuration change at",
                         r"^! NVRAM config last updated at")
    prompt_pattern = r"[>#]\s*$"
    config_prompt_pattern = r"\)#\s*$"
    exit_config_command = "end"
    logout_command = "exit"
    section_exit = "exit"

    def _checkpoint(self) -> None:
        output = self.ask(f"copy running-config {CHECKPOINT}", r"Destination filename", "")
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_COMMIT_FAILED", f"{self.who} could not save the checkpoint {CHECKPOINT} "
                                                      f"before the change: {output.strip()[:200]}")

    def _restore_checkpoint(self) -> None:
        output = self.ask(f"configure replace {CHECKPOINT} force", r"\[no\]:", "Y")
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_ROLLBACK_FAILED", f"{self.who} did not restore {CHECKPOINT}: "
                                                        f"{output.strip()[:200]}")

    def _configure(self, command: str = "configure terminal") -> None:
        output = self.session.send_command(command, expect_string=self.config_prompt_pattern,
                                           read_timeout=self.info.timeout)
        if self.error_pattern.search(output):
            raise DriverError("DRIVER_COMMIT_FAILED", f"{self.who} refused {command!r}: {output.strip()[:200]}")

    def _end(self) -> None:
        self.leave_config_mode(self.session)

    def push_lines(self, lines: list[str], configure: str = "configure terminal") -> None:
        """Checkpoint, enter config mode, type the lines; a refused line restores the checkpoint."""
        self._checkpoint()
        self._configure(configure)
        try:
            self.send_config_lines(lines)
        except LineRefused:
            self._end()
            self.undo_push()
            raise
        self._end()
        self._rollback_point = CHECKPOINT

    def undo_push(self) -> None:
        self._restore_checkpoint()
