"""H3C Comware 7 command line (netmiko `hp_comware`).

Views and prompts: user view `<name>`, system view `[name]`, sub-views `[name-GigabitEthernet1/0/1]`,
`[name-acl-ipv4-adv-3100]`, `[name-line-vty0-63]`, `[name-luser-manage-onenet]`.  Lines apply at once
(Comware has no candidate config).

Save, checkpoints and rollback (the Comware 7 forms):
- `save force` saves without asking (netmiko's `save_config`); `save` asks `The current configuration will be
  written to the device. Are you sure? [Y/N]:`; `save flash:/NAME.cfg` writes a named file (a checkpoint).
- `archive configuration` (user view) writes the next archive file `flash:/archive/onenet_N.cfg`;
  `display archive configuration` lists them.
- `configuration replace file flash:/NAME.cfg` (system view; `startup.cfg` is the saved config) replaces the
  running config with the file's: the rollback.  No confirmation question.

Commit delay (Comware 7's confirmed change):
- `configuration commit delay MINUTES` (system view; 1-65535) remembers the running config now and starts the
  timer: `Info: The configuration will be rolled back in N minute(s) unless it is committed with configuration
  commit.`  Lines entered afterwards apply at once as usual.  Entered again while a delay runs, the new delay
  replaces the old one and the remembered config stays the first one (the most recent setting takes effect).
  MINUTES missing: `% Incomplete command found at '^' position.`; out of range or not a number: a caret and
  `% Wrong parameter found at '^' position.`
- `configuration commit` (system view) confirms: the timer stops, `Info: The configuration is committed.`;
  with nothing pending: `Info: No configuration commit delay is in progress.`
- When the timer fires the running config becomes the remembered one (a commit point, comment `commit delay
  rollback`).
- `display configuration commit delay` (any view): `Configuration commit delay: N seconds left` or
  `Configuration commit delay: not set` (N: the device's own seconds, whatever the lab's timer scale).
"""

from __future__ import annotations

from lab.ssh.cli.base import (
    arp_table,
    device_mac,
    dispatch,
    lldp_neighbours,
    mac_huawei,
    mac_table,
    uptime_words,
)
from lab.ssh.cli.huawei_vrp import HuaweiCli
from lab.ssh.cli.interfaces import interface_description, interface_ip, interfaces_of, is_shutdown

CONFIG_WORDS = {
    "sysname", "interface", "description", "ip", "ipv6", "shutdown", "info-center", "ntp-service", "snmp-agent",
    "ssh", "telnet", "header", "rule", "packet-filter", "nat", "local-user", "authentication-mode", "protocol",
    "idle-timeout", "user-role", "acl", "lldp", "clock", "dialer", "line", "user-interface", "password",
    "service-type", "authorization-attribute", "domain", "role", "port", "vlan", "stp", "mtu", "speed", "duplex",
    "qos", "ospf", "bgp", "network", "peer", "import-route", "password-recovery", "undo", "sftp", "scp", "ftp",
    "arp", "mac-address", "dhcp", "radius", "hwtacacs", "area", "silent-interface", "router", "mpls", "netconf",
    "restful", "ip-ttl", "screen-length", "history-command", "set", "link-mode", "combo", "port-security",
    "password-control",
}
GLOBAL_ONLY = ("sysname ", "ip route-static ", "snmp-agent ", "info-center ", "ntp-service ", "header ",
               "telnet server", "ssh server", "clock ", "lldp global", "password-recovery", "password-control")
DELAY_RANGE = (1, 65535)  # minutes


class ComwareCli(HuaweiCli):
    error_marker = " % Unrecognized command found at '^' position."
    config_words = CONFIG_WORDS
    global_only = GLOBAL_ONLY

    def greeting(self) -> str:
        return ("\n******************************************************************************\n"
                "* Copyright (c) 2004-2023 New H3C Technologies Co., Ltd. All rights reserved.*\n"
                "* Without the owner's prior written consent,                                 *\n"
                "* no decompiling or reverse-engineering shall be allowed.                    *\n"
                "******************************************************************************\n\n"
                + self.prompt())

    def view_name(self) -> str:
        if self.section is None:
            return ""
        words = self.section.text.split()
        if words[0] == "interface":
            return "-" + words[1]
        if words[0] == "acl" and len(words) > 2:
            kind = {"advanced": "adv", "basic": "basic", "number": "adv"}.get(words[1], words[1])
            return f"-acl-ipv4-{kind}-{words[2]}"
        if words[0] == "line":
            return "-line-" + "".join(words[1:2]) + "-".join(words[2:])
        if words[0] == "local-user":
            return f"-luser-{words[3] if len(words) > 3 else 'manage'}-{words[1]}"
        return "-" + words[0]

    def prompt(self) -> str:
        name = self.state.hostname()
        return f"<{name}>" if self.mode == "user" else f"[{name}{self.view_name()}]"

    @property
    def working(self):
        return self.state.running

    def display_table(self):
        table = [entry for entry in super().display_table()
                 if not entry[0].startswith(("rollback", "display configuration commit", "display lldp",
                                             "screen-length", "display mac", "display arp brief"))]
        return table + [
            ("screen-length disable", lambda rest: ""),
            ("display lldp neighbor-information list", self.display_lldp_list),
            ("display lldp neighbor-information", self.display_lldp_list),
            ("display mac-address", self.display_mac),
            ("display archive configuration", self.display_archives),
            ("display configuration commit delay", self.display_commit_delay),
            ("dir", self.dir),
        ]

    def user_table(self):
        return self.display_table() + [
            ("system-view", self.system_view),
            ("save", self.save),
            ("archive configuration", self.archive),
            ("quit", self.logout),
            ("return", lambda rest: ""),
        ]

    def system_command(self, command: str, line: str) -> str:
        command = self.expand_system(command)
        tokens = command.split()
        if [t.lower() for t in tokens[:3]] == ["configuration", "replace", "file"] and len(tokens) > 3:
            return self.replace(tokens[3])
        handler, rest = dispatch(tokens, [("configuration commit delay", self.commit_delay),
                                          ("configuration commit", self.commit_confirm)])
        if handler is not None:
            return handler(rest, line, len(tokens) - len(rest))
        if tokens[0].lower() in ("commit", "abort") or (tokens[0].lower() not in self.config_words
                                                          and not "display".startswith(tokens[0].lower())
                                                          and tokens[0].lower() not in ("quit", "return", "save")):
            return self.unrecognized(line, 0)
        return super().system_command(command, line)

    def system_view(self, rest) -> str:
        self.mode = "system"
        self.section = None
        return "System View: return to User View with Ctrl+Z."

    def to_user_view(self):
        self.mode = "user"
        self.section = None

    def leave_system(self, line) -> str:
        self.to_user_view()
        return ""

    def logout(self, rest) -> str:
        self.closed = True
        return ""

    # -- commit delay ------------------------------------------------------------------------
    def delay_pending(self) -> bool:
        return self.state.pending is not None and self.state.pending.kind == "commit-delay"

    def commit_delay(self, rest, line, position) -> str:
        """`configuration commit delay MINUTES`."""
        if not rest:
            return self.caret_error(line, position, " % Incomplete command found at '^' position.")
        low, high = DELAY_RANGE
        if not rest[0].isdigit() or not low <= int(rest[0]) <= high:
            return self.caret_error(line, position, " % Wrong parameter found at '^' position.")
        if len(rest) > 1:
            return self.unrecognized(line, position + 1)
        minutes = int(rest[0])
        if self.delay_pending():
            self.state.reset_revert(minutes * 60)
        else:
            self.state.start_revert("commit-delay", minutes * 60, self.state.running, self.username,
                                    "commit delay rollback")
        return (f"Info: The configuration will be rolled back in {minutes} minute(s) unless it is committed with "
                "configuration commit.")

    def commit_confirm(self, rest, line, position) -> str:
        """`configuration commit`: keep what was changed since `configuration commit delay`."""
        if rest:
            return self.unrecognized(line, position)
        if not self.delay_pending():
            return "Info: No configuration commit delay is in progress."
        self.state.confirm_revert()
        return "Info: The configuration is committed."

    def display_commit_delay(self, rest) -> str:
        if not self.delay_pending():
            return "Configuration commit delay: not set"
        return f"Configuration commit delay: {self.state.revert_seconds_left()} seconds left"

    # -- files -------------------------------------------------------------------------------
    def save(self, rest) -> str:
        def write(name="flash:/startup.cfg"):
            if name.endswith("startup.cfg"):
                self.state.saved = self.state.running.copy()
            else:
                self.state.files[name] = self.state.running.copy()
            return ("Validating file. Please wait...\n"
                    "Saved the current configuration to mainboard device successfully.")

        args = [a for a in rest if a.lower() != "force"]
        if args:
            name = args[0] if args[0].startswith("flash:") else "flash:/" + args[0]
            return write(name)
        if any(a.lower() == "force" for a in rest):
            return write()

        def answer(text):
            return write() if text.lower().startswith("y") else ""

        self.question = answer
        return "The current configuration will be written to the device. Are you sure? [Y/N]:"

    def archive(self, rest) -> str:
        count = sum(1 for name in self.state.files if name.startswith("flash:/archive/")) + 1
        name = f"flash:/archive/onenet_{count}.cfg"
        self.state.files[name] = self.state.running.copy()
        return f"Save the running configuration to an archive file. Continue? [Y/N]:Y\n{name} saved."

    def display_archives(self, rest) -> str:
        lines = ["Location: flash:/archive", "Filename prefix: onenet", "Archive interval in minutes: 0",
                 "Maximum number of archive files: 10", "Saved archive files:", " No. TimeStamp     FileName"]
        for number, name in enumerate(n for n in self.state.files if n.startswith("flash:/archive/")):
            lines.append(f" {number + 1:<3} {self.state.changed_at:%Y/%m/%d %H:%M:%S} {name}")
        return "\n".join(lines)

    def dir(self, rest) -> str:
        lines = ["Directory of flash:", "   0 -rw-        5123 Nov 27 2026 08:00:00   startup.cfg"]
        for number, name in enumerate(self.state.files, 1):
            lines.append(f"{number:>4} -rw-        5123 Nov 27 2026 08:00:00   {name.split('flash:/', 1)[1]}")
        return "\n".join(lines)

    def replace(self, name: str) -> str:
        name = name if name.startswith("flash:") else "flash:/" + name
        self.state.running  # noqa: B018
        config = self.state.saved if name.endswith("/startup.cfg") else self.state.files.get(name)
        if config is None:
            return f"The file {name} does not exist."
        self.state.running = config.copy()
        self.state.record_commit(self.username, "-", f"replace {name}")
        self.section = None
        return "Current configuration will be lost, save current configuration? [Y/N]:N\n" \
               "Now replacing the current configuration. Please wait...\n" \
               "Info: Configuration replaced successfully."

    # -- displays ----------------------------------------------------------------------------
    def config_header(self, config_time=None) -> list[str]:
        return [f" version {self.state.device.os_version}, Release 6728P22"]

    def display_version(self, rest) -> str:
        device = self.state.device
        return (f"H3C Comware Software, Version {device.os_version}, Release 6728P22\n"
                "Copyright (c) 2004-2023 New H3C Technologies Co., Ltd. All rights reserved.\n"
                f"H3C {device.model} uptime is {uptime_words(self.state.uptime_seconds(), weeks=True)}\n"
                "Last reboot reason : Cold reboot\n")

    def display_interface_brief(self, rest) -> str:
        lines = ["Brief information on interfaces in route mode:", "Link: ADM - administratively down; "
                 "Stby - standby", "Protocol: (s) - spoofing",
                 "Interface            Link Protocol Primary IP      Description"]
        for node in interfaces_of(self.state.running):
            name = node.text.split(None, 1)[1]
            virtual = name.startswith(("LoopBack", "NULL"))
            link = "ADM" if is_shutdown(node) else "UP"
            proto = "DOWN" if is_shutdown(node) else ("UP(s)" if virtual else "UP")
            lines.append(f"{self.abbreviate(name):<20} {link:<4} {proto:<8} {interface_ip(node) or '--':<15} "
                         f"{interface_description(node)}".rstrip())
        return "\n".join(lines) + "\n"

    def display_arp(self, rest) -> str:
        lines = ["  Type: S-Static   D-Dynamic   O-Openflow   R-Rule   M-Multiport  I-Invalid",
                 "IP address      MAC address    VLAN/VSI name Interface                Aging Type"]
        for e in arp_table(self.state):
            if not e.dynamic:
                continue  # Comware lists learned entries, not its own addresses
            lines.append(f"{e.ip:<15} {mac_huawei(e.mac):<14} {'N/A':<13} {self.abbreviate(e.interface):<24} "
                         f"{1174:<5} D")
        return "\n".join(lines)

    def display_mac(self, rest) -> str:
        lines = ["MAC Address      VLAN ID    State            Port/NickName            Aging"]
        for e in mac_table(self.state):
            lines.append(f"{mac_huawei(e.mac):<16} {e.vlan:<10} {'Learned':<16} "
                         f"{self.abbreviate(e.interface):<24} Y")
        return "\n".join(lines)

    def display_lldp_list(self, rest) -> str:
        lines = ["Chassis ID : * -- -- Nearest nontpmr bridge neighbor",
                 "             # -- -- Nearest customer bridge neighbor",
                 "             Default -- -- Nearest bridge neighbor",
                 "System Name          Local Interface Chassis ID      Port ID"]
        for n in lldp_neighbours(self.state):
            lines.append(f"{n.name:<20} {self.abbreviate(n.local_interface):<15} {mac_huawei(n.chassis):<15} "
                         f"{n.interface.replace(' ', '')}")
        return "\n".join(lines)


__all__ = ["ComwareCli", "device_mac"]
