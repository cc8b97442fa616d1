"""Cisco IOS command line (netmiko `cisco_ios`), and Ruijie RGOS (`ruijie_os`) on the same engine with
Ruijie's version text and tables.

Modes and prompts: privileged EXEC `name#` (the lab user has privilege 15; `disable` gives `name>`, `enable`
returns), `name(config)#`, `name(config-if)#`, `name(config-line)#`, `name(config-ext-nacl)#`,
`name(config-std-nacl)#`, `name(config-router)#`, `name(config-archive)#`; the hostname in config prompts is
cut at 20 characters as IOS does.  Lines apply at once; `no X` removes; `do CMD` runs an EXEC command.

Save, checkpoints and rollback (the IOS forms):
- `write memory` (`write`, `wr`) or `copy running-config startup-config` (asks `Destination filename
  [startup-config]?`) saves; `show startup-config` shows it.
- `archive config` saves the running config as `flash:checkpoint` and as the next `flash:archive-config-N`
  (`show archive` lists them); `copy running-config flash:NAME` saves a named file.
- `configure replace flash:NAME force` replaces the running config with the file (the rollback); without
  `force` it asks `Enter Y if you are sure you want to proceed. ? [no]:`.  `nvram:startup-config` is the saved
  config.

Rollback confirmed change (cisco_ios only; Ruijie RGOS has no such feature and answers each of these with
`% Invalid input detected at '^' marker.`):
- `configure terminal revert timer MINUTES` (privileged EXEC; 1-120) remembers the running config, starts the
  timer and enters config mode like `configure terminal`, printing
  `Rollback Confirmed Change: Backing up current running config to flash:rollback-confirmed-change`,
  `Rollback Confirmed Change: Rollback scheduled in N minute(s), confirm with configure confirm`, then the usual
  `Enter configuration commands, ...` line.  MINUTES out of range or not a number: the IOS caret and `% Invalid
  input detected at '^' marker.`; missing: `% Incomplete command.`; while one is pending: `% Rollback Confirmed
  Change already pending; use configure confirm or configure revert now` (and config mode is not entered).
- `configure confirm` (EXEC) keeps the change: the timer stops, nothing is printed; with nothing pending:
  `% No Rollback Confirmed Change pending`.
- `configure revert now` (EXEC) rolls back at once (a commit point, comment `configure revert now`) and prints
  `Rollback Done`; `configure revert timer MINUTES` (1-120) restarts the timer with MINUTES and prints nothing.
  With nothing pending both print `% No Rollback Confirmed Change pending`.
- When the timer fires the running config becomes the remembered one (a commit point, comment `rollback confirmed
  change`, like `configure replace`); a session in a config sub-mode whose section is gone drops to `(config)#`.
- `show archive config rollback timer`: with a change pending, the lines `Rollback Confirmed Change: pending`,
  `Timer type: absolute`, `Timer value: N minute(s)`, `Time left: S seconds`, `User: NAME` (S: the device's
  own seconds, whatever the lab's timer scale); with nothing pending `%No Rollback Confirmed Change pending`.
"""

from __future__ import annotations

import re
from datetime import datetime

from lab.ssh.cli.base import (
    Cli,
    arp_table,
    bad_position,
    dispatch,
    expand_words,
    lldp_neighbours,
    mac_cisco,
    mac_table,
    uptime_words,
)
from lab.ssh.cli.interfaces import interface_description, interface_ip, interfaces_of, is_shutdown
from lab.ssh.management import apply_binding

CONFIG_WORDS = {
    "hostname", "interface", "description", "ip", "ipv6", "shutdown", "logging", "ntp", "snmp-server",
    "transport", "exec-timeout", "login", "username", "enable", "service", "aaa", "line", "access-list",
    "banner", "permit", "deny", "remark", "router", "network", "neighbor", "clock", "lldp", "cdp", "archive",
    "path", "maximum", "crypto", "switchport", "spanning-tree", "vlan", "speed", "duplex", "mtu", "encapsulation",
    "dialer", "dialer-group", "password", "privilege", "boot", "boot-start-marker", "boot-end-marker", "version",
    "no", "default", "control-plane", "class-map", "policy-map", "match", "set", "police", "service-policy",
    "standby", "vrrp", "bandwidth", "negotiation", "media-type", "channel-group", "storm-control", "session-timeout",
    "history", "length", "width", "access-class", "redistribute", "passive-interface", "area", "key", "end",
    "security",
}
GLOBAL_ONLY = ("hostname ", "ip route ", "snmp-server ", "logging ", "ntp ", "banner ", "username ",
               "access-list ", "enable ", "service ", "aaa ", "clock ", "lldp run", "cdp run", "ip ssh ",
               "ip domain", "ip nat inside source", "ip http", "security ", "login block-for", "password policy")
REVERT_MINUTES = (1, 120)
NO_REVERT_PENDING = "% No Rollback Confirmed Change pending"
CONFIRM_REPLACE = ("This will apply all necessary additions and deletions\nto replace the current running "
                   "configuration with the\ncontents of the specified configuration file, which is\nassumed to be "
                   "a complete configuration, not a partial\nconfiguration. Enter Y if you are sure you want to "
                   "proceed. ? [no]: ")


class CiscoCli(Cli):
    error_marker = "% Invalid input detected at '^' marker."
    revert_timers = True  # IOS's rollback confirmed change (Ruijie RGOS has none)

    def __init__(self, state, username):
        super().__init__(state, username)
        self.mode = "exec"  # exec (#), user (>), config
        self.section = None
        self.line = ""  # the EXEC line being run and how many of its tokens the command's words took (carets)
        self.consumed = 0

    @property
    def config_mode(self) -> bool:
        return self.mode == "config"

    def greeting(self) -> str:
        return "\n" + self.prompt()

    def section_mode(self) -> str:
        if self.section is None:
            return "config"
        text = self.section.text
        if text.startswith("interface "):
            return "config-if"
        if text.startswith("line "):
            return "config-line"
        if text.startswith("ip access-list extended "):
            return "config-ext-nacl"
        if text.startswith("ip access-list standard "):
            return "config-std-nacl"
        if text.startswith("router "):
            return "config-router"
        return "config-" + text.split()[0]

    def prompt(self) -> str:
        name = self.state.hostname()
        if self.mode == "user":
            return f"{name}>"
        if self.mode == "exec":
            return f"{name}#"
        return f"{name[:20]}({self.section_mode()})#"

    # -- command tables ------------------------------------------------------------------------
    def show_table(self):
        return [
            ("show running-config", self.show_running),
            ("show startup-config", self.show_startup),
            ("show version", self.show_version),
            ("show ip interface brief", self.show_ip_interface_brief),
            ("show interfaces description", self.show_interfaces_description),
            ("show ip arp", self.show_ip_arp),
            ("show arp", self.show_arp),
            ("show mac address-table", self.show_mac),
            ("show mac-address-table", self.show_mac),
            ("show lldp neighbors", self.show_lldp),
            ("show cdp neighbors", self.show_cdp),
            ("show archive", self.show_archive),
            *([("show archive config rollback timer", self.show_rollback_timer)] if self.revert_timers else []),
            ("show clock", lambda rest: f"*{datetime.now():%H:%M:%S.000 CST %a %b %d %Y}"),
            ("show privilege", lambda rest: "Current privilege level is 15" if self.mode != "user"
             else "Current privilege level is 1"),
            ("terminal length", lambda rest: ""),
            ("terminal width", lambda rest: ""),
            ("terminal no monitor", lambda rest: ""),
        ]

    def exec_table(self):
        return self.show_table() + [
            ("configure terminal", self.configure),
            ("enable", self.enable),
            ("disable", self.disable),
            ("write memory", self.write_memory),
            ("write", self.write_memory),
            ("copy running-config startup-config", self.copy_run_start),
            ("copy running-config", self.copy_run_file),
            ("archive config", self.archive_config),
            ("configure replace", self.configure_replace),
            *([("configure terminal revert timer", self.configure_revert_timer),
               ("configure confirm", self.configure_confirm),
               ("configure revert now", self.configure_revert_now),
               ("configure revert timer", self.configure_revert_timer_reset)] if self.revert_timers else []),
            ("exit", self.logout),
            ("quit", self.logout),
            ("logout", self.logout),
            ("end", lambda rest: ""),
        ]

    def user_table(self):
        return [entry for entry in self.exec_table()
                if entry[0].startswith(("show version", "show clock", "show privilege", "terminal", "enable",
                                        "exit", "quit", "logout", "show lldp", "show cdp", "show ip interface",
                                        "show arp", "show ip arp"))]

    # -- execution ---------------------------------------------------------------------------------
    def execute(self, line: str) -> str:
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            return ""
        if self.mode == "config":
            return self.config_command(stripped, line)
        table = self.user_table() if self.mode == "user" else self.exec_table()
        return self.run_with_pipe(stripped, lambda command: self.exec_command(command, line, table))

    def exec_command(self, command: str, line: str, table) -> str:
        tokens = command.split()
        handler, rest = dispatch(tokens, table)
        if handler is None:
            return self.unrecognized(line, bad_position(tokens, table))
        self.line, self.consumed = line, len(tokens) - len(rest)
        return handler(rest)

    def invalid_at(self, offset: int) -> str:
        """The IOS caret under the command's argument number `offset` (0: the first after the keywords)."""
        return self.unrecognized(self.line, self.consumed + offset)

    def config_command(self, command: str, line: str) -> str:
        command = self.normalise(expand_words(command, CONFIG_WORDS | {"do", "exit"}, ("no", "default")))
        tokens = command.split()
        word = tokens[0].lower()
        if word == "do" and len(tokens) > 1:
            rest = command.split(None, 1)[1]
            return self.run_with_pipe(rest, lambda c: self.exec_command(c, line, self.exec_table()))
        if word == "end":
            self.mode, self.section = "exec", None
            return ""
        if word == "exit":
            if self.section is not None:
                self.section = None
            else:
                self.mode = "exec"
            return ""
        config = self.state.running
        section = self.section
        if word in ("no", "default"):
            target = self.normalise(" ".join(tokens[1:])) if tokens[1:2] == ["interface"] else " ".join(tokens[1:])
            if not target:
                return self.unrecognized(line, 1)
            if section is not None and target.startswith(GLOBAL_ONLY):
                section = self.section = None
            config.remove(target, section)
            self.touch()
            return ""
        if word not in CONFIG_WORDS:
            return self.unrecognized(line, 0)
        if config.opens_section(command):
            self.section = self.enter(config, command)
            self.touch()
            return ""
        if section is not None and command.startswith(GLOBAL_ONLY):
            section = self.section = None
        if not apply_binding(config, section, command):  # a VTY/SNMP ACL binding replaces the one of its kind
            config.apply(command, section)
        self.touch()
        return ""

    def touch(self):
        self.state.running = self.state.running  # stamps the change time

    @staticmethod
    def enter(config, opener):
        opener = " ".join(opener.split())
        for node in config.nodes:
            if node.children is not None and node.text.lower() == opener.lower():
                return node
        return config.enter(opener)

    def normalise(self, command: str) -> str:
        """`int gi0/1` -> `interface GigabitEthernet0/1` (the usual IOS abbreviations)."""
        words = command.split()
        if len(words) >= 2 and "interface".startswith(words[0].lower()) and len(words[0]) >= 3:
            name = " ".join(words[1:])
            for short, long in (("gi", "GigabitEthernet"), ("te", "TenGigabitEthernet"), ("lo", "Loopback"),
                                ("fa", "FastEthernet")):
                if re.match(rf"{short}[a-z]*\s?\d", name, flags=re.I):
                    number = re.sub(r"^[A-Za-z-]+\s?", "", name)
                    sep = " " if self.state.device.platform == "ruijie_os" and long != "Loopback" else ""
                    return f"interface {long}{sep}{number}"
            return f"interface {name}"
        return command

    # -- modes -------------------------------------------------------------------------------------
    def configure(self, rest) -> str:
        if rest:
            return self.invalid_at(0)
        self.mode, self.section = "config", None
        return "Enter configuration commands, one per line.  End with CNTL/Z."

    # -- rollback confirmed change ------------------------------------------------------------------
    def revert_minutes(self, rest) -> int | str:
        """MINUTES (1-120) as an int, or the error to print."""
        if not rest:
            return "% Incomplete command."
        low, high = REVERT_MINUTES
        if not rest[0].isdigit() or not low <= int(rest[0]) <= high:
            return self.invalid_at(0)
        if len(rest) > 1:
            return self.invalid_at(1)
        return int(rest[0])

    def revert_pending(self) -> bool:
        return self.state.pending is not None and self.state.pending.kind == "revert-timer"

    def configure_revert_timer(self, rest) -> str:
        """`configure terminal revert timer MINUTES`: config mode, rolled back unless confirmed in time."""
        minutes = self.revert_minutes(rest)
        if isinstance(minutes, str):
            return minutes
        if self.revert_pending():
            return "% Rollback Confirmed Change already pending; use configure confirm or configure revert now"
        self.state.start_revert("revert-timer", minutes * 60, self.state.running, self.username,
                                "rollback confirmed change")
        return ("Rollback Confirmed Change: Backing up current running config to flash:rollback-confirmed-change\n"
                f"Rollback Confirmed Change: Rollback scheduled in {minutes} minute(s), confirm with configure "
                "confirm\n" + self.configure([]))

    def configure_confirm(self, rest) -> str:
        if rest:
            return self.invalid_at(0)
        if not self.revert_pending():
            return NO_REVERT_PENDING
        self.state.confirm_revert()
        return ""

    def configure_revert_now(self, rest) -> str:
        if rest:
            return self.invalid_at(0)
        if not self.revert_pending():
            return NO_REVERT_PENDING
        self.state.revert_now(self.username, "configure revert now")
        return "Rollback Done"

    def configure_revert_timer_reset(self, rest) -> str:
        """`configure revert timer MINUTES`: the pending rollback now happens MINUTES from now."""
        minutes = self.revert_minutes(rest)
        if isinstance(minutes, str):
            return minutes
        if not self.revert_pending():
            return NO_REVERT_PENDING
        self.state.reset_revert(minutes * 60)
        return ""

    def show_rollback_timer(self, rest) -> str:
        if rest:
            return self.invalid_at(0)
        if not self.revert_pending():
            return "%No Rollback Confirmed Change pending"
        pending = self.state.pending
        return "\n".join(["Rollback Confirmed Change: pending", "Timer type: absolute",
                          f"Timer value: {pending.seconds // 60} minute(s)",
                          f"Time left: {self.state.revert_seconds_left()} seconds", f"User: {pending.user}"])

    def running_replaced(self) -> None:
        """A rollback replaced the running config: a sub-mode follows its section, or drops to `(config)#`."""
        if self.section is not None:
            self.section = self.state.running.section(self.section.text)

    def enable(self, rest) -> str:
        self.mode = "exec"
        return ""

    def disable(self, rest) -> str:
        self.mode = "user"
        return ""

    def logout(self, rest) -> str:
        self.closed = True
        return ""

    # -- save, archive, replace ------------------------------------------------------------------------
    def write_memory(self, rest) -> str:
        self.state.running  # noqa: B018
        self.state.saved = self.state.running.copy()
        return "Building configuration...\n[OK]"

    def copy_run_start(self, rest) -> str:
        def answer(text):
            return self.write_memory([])

        self.question = answer
        return "Destination filename [startup-config]? "

    def copy_run_file(self, rest) -> str:
        if not rest or not rest[0].startswith("flash:"):
            return self.error_marker
        self.state.files[rest[0]] = self.state.running.copy()
        return f"Destination filename [{rest[0].split(':', 1)[1]}]? \n{len(self.state.running.lines()) * 30} " \
               f"bytes copied in 0.120 secs"

    def archive_config(self, rest) -> str:
        count = sum(1 for name in self.state.files if name.startswith("flash:archive-config-")) + 1
        self.state.files[f"flash:archive-config-{count}"] = self.state.running.copy()
        self.state.files["flash:checkpoint"] = self.state.running.copy()
        self.state.record_commit(self.username, f"archive-config-{count}")
        return ""

    def show_archive(self, rest) -> str:
        if rest:
            return self.invalid_at(0)
        names = [name for name in self.state.files if name.startswith("flash:archive-config-")]
        lines = ["The maximum archive configurations allowed is 14.",
                 f"The next archive file will be named flash:archive-config-{len(names) + 1}",
                 " Archive #  Name"]
        for number, name in enumerate(names, 1):
            lines.append(f"   {number:<8} {name}{' <- Most Recent' if number == len(names) else ''}")
        return "\n".join(lines)

    def configure_replace(self, rest) -> str:
        if not rest:
            return self.error_marker
        name = rest[0]
        self.state.running  # noqa: B018
        config = self.state.saved if name in ("nvram:startup-config", "startup-config") else self.state.files.get(name)
        if config is None:
            return f"%Error opening {name} (No such file or directory)"

        def replace():
            self.state.running = config.copy()
            self.state.record_commit(self.username, "-", f"configure replace {name}")
            return "Total number of passes: 1\nRollback Done"

        if any(word.lower() == "force" for word in rest[1:]):
            return replace()

        def answer(text):
            return replace() if text.lower().startswith("y") else ""

        self.question = answer
        return CONFIRM_REPLACE

    # -- shows -------------------------------------------------------------------------------------
    def config_header(self, saved=False) -> list[str]:
        state = self.state
        body = state.running.render()
        stamp = f"{state.changed_at:%H:%M:%S UTC %a %b %d %Y}"
        header = ["Building configuration...", "", f"Current configuration : {len(body)} bytes", "!",
                  f"! Last configuration change at {stamp} by {state.changed_by}"]
        if saved:
            header = [f"Using {len(body)} out of 262136 bytes", "!",
                      f"! Last configuration change at {stamp} by {state.changed_by}",
                      f"! NVRAM config last updated at {stamp} by {state.changed_by}"]
        return header

    def show_running(self, rest) -> str:
        config = self.state.running
        if len(rest) >= 2 and rest[0].lower().startswith("int"):
            node = self.enter(config.copy(), self.normalise("interface " + " ".join(rest[1:])))
            return ("Building configuration...\n\nCurrent configuration : 120 bytes\n!\n"
                    + "\n".join([node.text] + [" " + c.text for c in node.children]) + "\nend")
        return config.render(self.config_header())

    def show_startup(self, rest) -> str:
        self.state.running  # noqa: B018
        return self.state.saved.render(self.config_header(saved=True))

    def show_version(self, rest) -> str:
        device = self.state.device
        name = self.state.hostname()
        family = re.sub(r"-.*", "", device.model)
        return (f"Cisco IOS Software, {family} Software ({family}-UNIVERSALK9-M), Version {device.os_version}, "
                "RELEASE SOFTWARE (fc2)\n"
                "Technical Support: http://www.cisco.com/techsupport\n"
                "Copyright (c) 1986-2021 by Cisco Systems, Inc.\n"
                "Compiled Tue 18-May-21 10:21 by prod_rel_team\n\n"
                "ROM: Bootstrap program is C2960X boot loader\n"
                f"BOOTLDR: {family} Boot Loader ({family}-HBOOT-M) Version 15.2(7r)E2, RELEASE SOFTWARE (fc1)\n\n"
                f"{name} uptime is {uptime_words(self.state.uptime_seconds(), weeks=True)}\n"
                "System returned to ROM by power-on\n"
                f'System image file is "flash:{family.lower()}-universalk9-mz.bin"\n\n'
                f"cisco {device.model} (APM86XXX) processor (revision B0) with 524288K bytes of memory.\n"
                f"Processor board ID FOC{int(self._mac()[-6:], 16) % 10**7:07d}X\n"
                "Last reset from power-on\n"
                f"{sum(1 for i in device.interfaces if i.kind == 'ethernet')} Gigabit Ethernet interfaces\n"
                "512K bytes of flash-simulated non-volatile configuration memory.\n"
                f"Base ethernet MAC Address       : {':'.join(self._mac()[i:i + 2] for i in range(0, 12, 2))}\n"
                f"Model number                    : {device.model}\n\n"
                "Configuration register is 0xF\n")

    def _mac(self):
        from lab.ssh.cli.base import device_mac

        return device_mac(self.state.device)

    def show_ip_interface_brief(self, rest) -> str:
        lines = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for node in interfaces_of(self.state.running):
            name = node.text.split(None, 1)[1]
            status = "administratively down" if is_shutdown(node) else "up"
            proto = "down" if is_shutdown(node) else "up"
            address = interface_ip(node)
            method = "NVRAM" if address else "unset"
            lines.append(f"{name:<22} {address or 'unassigned':<15} YES {method:<6} {status:<21} {proto}")
        return "\n".join(lines)

    def show_interfaces_description(self, rest) -> str:
        lines = ["Interface                      Status         Protocol Description"]
        for node in interfaces_of(self.state.running):
            name = self.abbreviate(node.text.split(None, 1)[1])
            status = "admin down" if is_shutdown(node) else "up"
            lines.append(f"{name:<30} {status:<14} {'down' if is_shutdown(node) else 'up':<8} "
                         f"{interface_description(node)}")
        return "\n".join(lines)

    def show_ip_arp(self, rest) -> str:
        lines = ["Protocol  Address          Age (min)  Hardware Addr   Type   Interface"]
        for n, e in enumerate(arp_table(self.state)):
            age = str(1 + n % 200) if e.dynamic else "-"
            lines.append(f"Internet  {e.ip:<16} {age:>8}   {mac_cisco(e.mac):<15} ARPA   {e.interface}")
        return "\n".join(lines)

    def show_arp(self, rest) -> str:
        return self.show_ip_arp(rest)

    def show_mac(self, rest) -> str:
        entries = mac_table(self.state)
        lines = ["          Mac Address Table", "-------------------------------------------", "",
                 "Vlan    Mac Address       Type        Ports", "----    -----------       --------    -----"]
        for e in entries:
            lines.append(f"{e.vlan:>4}    {mac_cisco(e.mac):<17} {'DYNAMIC':<11} {self.abbreviate(e.interface)}")
        lines.append(f"Total Mac Addresses for this criterion: {len(entries)}")
        return "\n".join(lines)

    def show_lldp(self, rest) -> str:
        neighbours = lldp_neighbours(self.state)
        lines = ["Capability codes:", "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
                 "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other", "",
                 "Device ID           Local Intf     Hold-time  Capability      Port ID"]
        for n in neighbours:
            lines.append(f"{n.name[:20]:<20}{self.abbreviate(n.local_interface):<15}{120:<11}{'R':<16}"
                         f"{n.interface}")
        lines += ["", f"Total entries displayed: {len(neighbours)}"]
        return "\n".join(lines)

    def show_cdp(self, rest) -> str:
        lines = ["Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge",
                 "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone,",
                 "                  D - Remote, C - CVTA, M - Two-port Mac Relay", "",
                 "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID"]
        for n in lldp_neighbours(self.state):
            if n.platform != "cisco_ios":
                continue  # CDP only hears Cisco neighbours
            local = re.sub(r"^([A-Za-z]{3})[A-Za-z]*", r"\1 ", n.local_interface)
            port = re.sub(r"^([A-Za-z]{3})[A-Za-z]*", r"\1 ", n.interface)
            lines.append(f"{n.name:<16} {local:<17} {155:<10} {'R S I':<11} {n.model[:9]:<9} {port}")
        return "\n".join(lines)


class RuijieCli(CiscoCli):
    """Ruijie RGOS: the IOS-like engine with Ruijie's banner, version and table formats."""

    revert_timers = False

    def show_version(self, rest) -> str:
        device = self.state.device
        seconds = self.state.uptime_seconds()
        days, rest_ = divmod(seconds, 86400)
        hours, rest_ = divmod(rest_, 3600)
        return ("System description      : Ruijie Networks Co., Ltd. "
                f"{device.model} (RGOS {device.os_version})\n"
                f"System start time       : {datetime.now():%Y-%m-%d %H:%M:%S}\n"
                f"System uptime           : {days}:{hours:02d}:{rest_ // 60:02d}:00\n"
                f"System hardware version : 1.00\n"
                f"System software version : RGOS {device.os_version} Release(05221412)\n"
                f"System patch number     : NA\n"
                f"System serial number    : G1QH{int(self._mac()[-6:], 16) % 10**9:09d}\n"
                "System boot version     : 1.3.8\n")

    def show_arp(self, rest) -> str:
        entries = arp_table(self.state)
        lines = [f"Total Numbers of Arp: {len(entries)}",
                 "Protocol  Address          Age(min)  Hardware         Type   Interface"]
        for n, e in enumerate(entries):
            age = str(1 + n % 200) if e.dynamic else "<static>"
            lines.append(f"Internet  {e.ip:<16} {age:<9} {mac_cisco(e.mac):<16} arpa   {e.interface}")
        return "\n".join(lines)

    def show_mac(self, rest) -> str:
        lines = ["Vlan        MAC Address          Type     Interface                Live Time",
                 "---------- -------------------- -------- ------------------------ -------------"]
        for e in mac_table(self.state):
            lines.append(f"{e.vlan:>10} {mac_cisco(e.mac):<20} {'DYNAMIC':<8} {e.interface:<24} 0d 00:05:23")
        return "\n".join(lines)

    def config_header(self, saved=False) -> list[str]:
        body = self.state.running.render()
        return ["Building configuration...", f"Current configuration : {len(body)} bytes", "",
                f"version RGOS {self.state.device.os_version} Release(05221412)"]
