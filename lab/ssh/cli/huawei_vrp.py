"""Huawei VRP command line (netmiko `huawei`, and `huawei_vrpv8` for the two-stage devices).

Views and prompts: user view `<name>`, system view `[name]` (two-stage VRP8: `[~name]`, `[*name]` once the
candidate differs from the running config), sub-views `[name-GigabitEthernet0/0/1]`, `[name-acl-adv-3100]`,
`[name-ui-vty0-4]`, `[name-aaa]`.

Configuration model:
- two-stage (huawei_vrp core/egress/aggregation on V800): `system-view` starts a private candidate; `commit
  [label L] [description TEXT]` applies it and records a commit point.  `return`/`quit` to user view with
  uncommitted changes asks `Uncommitted configurations found. Are you sure to commit them before exiting?
  [Y(yes)/N(no)/C(cancel)]:` (Y commits, N discards, C stays).  `abort` (or `clear configuration candidate`)
  drops the candidate.
- one-stage (the others): each line applies at once; leaving system view records a commit point if anything
  changed, so both kinds share the rollback commands.
- `display configuration commit list [verbose]`: the commit points (ids from 1000000001, the initial config).
- `rollback configuration to commit-id ID` (the config as it was right after that commit) and
  `rollback configuration last N` (undo the last N commits), in user or system view; a rollback is itself
  recorded as a commit point.  No confirmation question.
- `save` asks `Are you sure to continue?[Y/N]:`; `display saved-configuration` shows the saved copy.

Trial commits (two-stage VRP8 only; one-stage VRP rejects all of these as unrecognized commands):
- `commit trial [SECONDS] [label L] [description TEXT]` (system view; SECONDS 60-65535, default 600) commits the
  candidate like `commit` (a commit point), remembers the configuration from before and starts the trial timer:
  `Info: The system enters the trial configuration mode. The system will revert to previous configuration if the
  trial configuration is not confirmed in N seconds.`  SECONDS out of range or not a number: a caret and
  `Error: Wrong parameter found at '^' position.`  An unchanged candidate: `Info: The configuration has not been
  changed.` and no trial.  While a trial runs: `Error: The system is already in the trial configuration mode.
  Confirm it with commit or cancel it with abort trial.`
- `commit` (any session of the device, with or without further candidate changes) while a trial runs confirms
  it: the timer stops, the configuration stays, `Info: The trial configuration is confirmed.`
- `abort trial` (system view) rolls back at once to the configuration from before the trial (a commit point,
  comment `abort trial`): `Info: The trial configuration is aborted and the previous configuration is
  restored.`; with no trial: `Error: The system is not in the trial configuration mode.`
- When the timer fires the running config becomes the pre-trial config, recorded as a commit point by the trial's
  user with comment `trial rollback`; every open session's candidate follows (as after a rollback).
- `display configuration trial status` (user and system view): `Trial status: running, N seconds left` or
  `Trial status: not running` (N: the device's own seconds, whatever the lab's timer scale).
"""

from __future__ import annotations

from lab.ssh.cli.base import (
    Cli,
    arp_table,
    bad_position,
    dispatch,
    expand_words,
    lldp_neighbours,
    mac_huawei,
    mac_table,
    uptime_words,
)
from lab.ssh.cli.interfaces import interface_description, interfaces_of, is_shutdown
from lab.ssh.management import apply_binding

# First words the system view (and its sub-views) accepts as configuration.
CONFIG_WORDS = {
    "sysname", "interface", "description", "ip", "ipv6", "shutdown", "info-center", "ntp-service", "snmp-agent",
    "stelnet", "ssh", "telnet", "header", "rule", "traffic-filter", "nat", "local-user", "authentication-mode",
    "protocol", "idle-timeout", "user", "acl", "aaa", "lldp", "clock", "dialer", "dialer-group", "link-protocol",
    "authentication-scheme", "authorization-scheme", "domain", "port", "vlan", "stp", "mtu", "speed", "duplex",
    "negotiation", "qos", "traffic-policy", "bfd", "ospf", "bgp", "isis", "network", "peer", "import-route",
    "route-policy", "user-interface", "set", "dns", "http", "ftp", "sftp", "scp", "undo", "arp", "mac-address",
    "portswitch", "firewall", "security-policy", "service-type", "password", "privilege", "history-command",
    "screen-length", "capture-packet", "dhcp", "igmp", "multicast", "radius-server", "hwtacacs-server", "area",
    "silent-interface", "router", "mpls", "anti-attack", "cpu-defend", "storm-control", "local-aaa-user",
}
GLOBAL_ONLY = ("sysname ", "ip route-static ", "snmp-agent ", "info-center ", "ntp-service ", "header ",
               "stelnet ", "telnet server", "ssh user", "ssh server", "clock ", "lldp enable")
TRIAL_RANGE = (60, 65535)
TRIAL_DEFAULT = 600
WRONG_PARAMETER = "Error: Wrong parameter found at '^' position."


class HuaweiCli(Cli):
    error_marker = "Error: Unrecognized command found at '^' position."
    config_words = CONFIG_WORDS
    global_only = GLOBAL_ONLY

    def __init__(self, state, username):
        super().__init__(state, username)
        self.mode = "user"  # user, system
        self.section = None
        self.candidate = None  # two-stage: this session's candidate config
        self.changed = False  # one-stage: something changed since system-view

    @property
    def config_mode(self) -> bool:
        return self.mode == "system"

    # -- prompts -----------------------------------------------------------------------------
    def greeting(self) -> str:
        state = self.state
        return ("\nInfo: The max number of VTY users is 10, and the number\n"
                "      of current VTY users on line is 1.\n"
                f"      The current login time is {state.changed_at:%Y-%m-%d %H:%M:%S}.\n"
                + self.prompt())

    def view_name(self) -> str:
        if self.section is None:
            return ""
        text = self.section.text
        words = text.split()
        if words[0] == "interface":
            return "-" + words[1]
        if words[:2] == ["acl", "number"] and len(words) > 2:
            kind = "adv" if words[2].isdigit() and int(words[2]) >= 3000 else "basic"
            return f"-acl-{kind}-{words[2]}"
        if words[0] == "user-interface":
            return "-ui-" + "".join(words[1:2]) + "-".join(words[2:])
        return "-" + words[0]

    def prompt(self) -> str:
        name = self.state.hostname()
        if self.mode == "user":
            return f"<{name}>"
        if self.state.two_stage:
            mark = "*" if self.candidate is not None and self.candidate != self.state.running else "~"
            return f"[{mark}{name}{self.view_name()}]"
        return f"[{name}{self.view_name()}]"

    @property
    def working(self):
        """The config that configuration lines change: the candidate (two-stage) or the running config."""
        if self.state.two_stage:
            if self.candidate is None:
                self.candidate = self.state.running.copy()
            return self.candidate
        return self.state.running

    # -- commands ----------------------------------------------------------------------------
    def display_table(self):
        return [
            ("display current-configuration", self.display_current),
            ("display saved-configuration", self.display_saved),
            ("display this", self.display_this),
            ("display version", self.display_version),
            ("display interface brief", self.display_interface_brief),
            ("display ip interface brief", self.display_ip_interface_brief),
            ("display interface description", self.display_interface_description),
            ("display arp", self.display_arp),
            ("display arp all", self.display_arp),
            ("display arp brief", self.display_arp),
            ("display mac-address", self.display_mac),
            ("display lldp neighbor brief", self.display_lldp_brief),
            ("display lldp neighbor", self.display_lldp),
            ("display configuration commit list", self.display_commits),
            ("display clock", self.display_clock),
            ("display users", lambda rest: f"  User-Intf    Delay    Type   Network Address     AuthenStatus\n"
                                           f"+ 34  VTY 0   00:00:00  SSH    127.0.0.1           pass\n"
                                           f"  Username : {self.username}"),
            ("screen-length", self.screen_length),
            ("screen-width", lambda rest: "Info: The configuration takes effect on the current user terminal "
                                          "interface only."),
            ("rollback configuration to commit-id", self.rollback_to),
            ("rollback configuration last", self.rollback_last),
        ] + ([("display configuration trial status", self.display_trial_status)] if self.state.two_stage else [])

    def user_table(self):
        return self.display_table() + [
            ("system-view", self.system_view),
            ("save", self.save),
            ("quit", self.logout),
            ("return", lambda rest: ""),
        ]

    def execute(self, line: str) -> str:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return ""
        if self.mode == "user":
            return self.run_with_pipe(stripped, lambda command: self.user_command(command, line))
        return self.system_command(stripped, line)

    def user_command(self, command: str, line: str) -> str:
        tokens = command.split()
        handler, rest = dispatch(tokens, self.user_table())
        if handler is None:
            return self.unrecognized(line, bad_position(tokens, self.user_table()))
        return handler(rest)

    def display_command(self, command: str, line: str) -> str:
        tokens = command.split()
        handler, rest = dispatch(tokens, self.display_table())
        if handler is None:
            return self.unrecognized(line, bad_position(tokens, self.display_table()))
        return handler(rest)

    def expand_system(self, command: str) -> str:
        """Abbreviated view commands (`q`, `ret`) and configuration words (`int`, `desc`, `un`) in full."""
        first = command.split()[0].lower()
        for word, shortest in (("quit", 1), ("return", 3), ("commit", 3), ("abort", 2), ("save", 2)):
            if len(first) >= shortest and word.startswith(first):
                return " ".join([word] + command.split()[1:])
        if first.startswith(("dis", "roll", "screen", "configuration")):
            return command
        return expand_words(command, self.config_words)

    def system_command(self, command: str, line: str) -> str:
        command = self.expand_system(command)
        tokens = command.split()
        word = tokens[0].lower()
        if "display".startswith(word) and len(word) >= 3 or word == "rollback" or word == "screen-length":
            return self.run_with_pipe(command, lambda c: self.display_command(c, line))
        if word == "quit":
            if self.section is not None:
                self.section = None
                return ""
            return self.leave_system(line)
        if word == "return":
            return self.leave_system(line)
        if word == "commit" and self.state.two_stage:
            if len(tokens) > 1 and "trial".startswith(tokens[1].lower()):
                return self.commit_trial(tokens[2:], line)
            return self.commit(tokens[1:])
        if word == "abort" and self.state.two_stage:
            if len(tokens) > 1:
                if "trial".startswith(tokens[1].lower()) and len(tokens) == 2:
                    return self.abort_trial()
                return self.unrecognized(line, 1 if not "trial".startswith(tokens[1].lower()) else 2)
            self.candidate = self.state.running.copy()
            self.section = None
            return ""
        if word == "save":
            return self.save(tokens[1:])
        config = self.working
        section = self.section
        if word == "undo":
            target = " ".join(tokens[1:])
            if not target:
                return self.unrecognized(line, 1)
            if section is not None and target.startswith(self.global_only):
                section = None
            if config.remove(target, self.section_in(config, section)):
                self.changed = True
            return ""
        if word not in self.config_words:
            return self.unrecognized(line, 0)
        if config.opens_section(command):
            self.section = self.enter(config, command)
            self.changed = True
            return ""
        if section is not None and command.startswith(self.global_only):
            self.section = section = None
        section = self.section_in(config, section)
        if not apply_binding(config, section, command):  # a VTY/SNMP ACL binding replaces the one of its kind
            config.apply(command, section)
        self.changed = True
        return ""

    @staticmethod
    def section_in(config, section):
        """The same section in `config` (sections are looked up by their opener text)."""
        if section is None:
            return None
        return config.section(section.text) or config.enter(section.text)

    @staticmethod
    def enter(config, opener):
        opener = " ".join(opener.split())
        for node in config.nodes:
            if node.children is not None and node.text.lower() == opener.lower():
                return node
        return config.enter(opener)

    # -- modes -------------------------------------------------------------------------------
    def system_view(self, rest) -> str:
        self.mode = "system"
        self.section = None
        self.changed = False
        if self.state.two_stage:
            self.candidate = self.state.running.copy()
            return "Enter system view, return user view with return command."
        return "Enter system view, return user view with Ctrl+Z."

    def leave_system(self, line) -> str:
        if self.state.two_stage and self.candidate is not None and self.candidate != self.state.running:
            self.question = self.answer_uncommitted
            return ("Warning: Uncommitted configurations found. Are you sure to commit them before exiting? "
                    "[Y(yes)/N(no)/C(cancel)]:")
        self.to_user_view()
        return ""

    def answer_uncommitted(self, answer: str) -> str:
        answer = answer.lower()
        if answer.startswith("y"):
            self.commit([])
            self.to_user_view()
            return ""
        if answer.startswith("n"):
            self.candidate = None
            self.to_user_view()
            return ""
        return ""  # cancel: stay in system view

    def to_user_view(self):
        if not self.state.two_stage and self.changed and self.state.commits[-1].config != self.state.running:
            self.state.record_commit(self.username)
        self.mode = "user"
        self.section = None
        self.candidate = None
        self.changed = False

    def logout(self, rest) -> str:
        self.closed = True
        return "  Info: The connection was closed by the remote host."

    def commit(self, args) -> str:
        label = comment = ""
        if len(args) >= 2 and args[0] == "label":
            label = args[1]
        if "description" in args:
            comment = " ".join(args[args.index("description") + 1:])
        if "comment" in args:
            comment = " ".join(args[args.index("comment") + 1:]).strip('"')
        changed = self.candidate is not None and self.candidate != self.state.running
        if changed:
            self.state.running = self.candidate.copy()
            self.state.record_commit(self.username, label, comment)
        if self.trial_running():
            self.state.confirm_revert()  # a commit during a trial confirms it
            return "Info: The trial configuration is confirmed."
        return "" if changed else "Info: The configuration has not been changed."

    # -- trial commits (VRP8) ----------------------------------------------------------------
    def trial_running(self) -> bool:
        return self.state.pending is not None and self.state.pending.kind == "trial"

    def commit_trial(self, args, line) -> str:
        """`commit trial [SECONDS] [label L] [description TEXT]`."""
        seconds = TRIAL_DEFAULT
        if args and args[0].lower() not in ("label", "description", "comment"):
            low, high = TRIAL_RANGE
            if not args[0].isdigit() or not low <= int(args[0]) <= high:
                return self.caret_error(line, 2, WRONG_PARAMETER)
            seconds = int(args[0])
            args = args[1:]
        if self.trial_running():
            return ("Error: The system is already in the trial configuration mode. Confirm it with commit or "
                    "cancel it with abort trial.")
        if self.candidate is None or self.candidate == self.state.running:
            return "Info: The configuration has not been changed."
        before = self.state.running.copy()
        self.commit(args)
        self.state.start_revert("trial", seconds, before, self.username, "trial rollback")
        return ("Info: The system enters the trial configuration mode. The system will revert to previous "
                f"configuration if the trial configuration is not confirmed in {seconds} seconds.")

    def abort_trial(self) -> str:
        if not self.trial_running():
            return "Error: The system is not in the trial configuration mode."
        self.state.revert_now(self.username, "abort trial")
        return "Info: The trial configuration is aborted and the previous configuration is restored."

    def display_trial_status(self, rest) -> str:
        if not self.trial_running():
            return "Trial status: not running"
        return f"Trial status: running, {self.state.revert_seconds_left()} seconds left"

    def running_replaced(self) -> None:
        """A rollback replaced the running config: a two-stage candidate follows (like `restore`); a one-stage
        session stays in its view if the section still exists."""
        if self.candidate is not None:
            self.candidate = self.state.running.copy()
            self.section = None
        elif self.section is not None:
            self.section = self.state.running.section(self.section.text)

    def save(self, rest) -> str:
        def answer(text):
            if text.lower().startswith("y"):
                self.state.saved = self.state.running.copy()
                return ("  It will take several minutes to save configuration file, please wait.....\n"
                        "  Configuration file had been saved successfully\n"
                        "  Note: The configuration file will take effect after being activated")
            return ""
        self.question = answer
        return ("Warning: The current configuration will be written to the device.\n"
                "Are you sure to continue?[Y/N]:")

    def screen_length(self, rest) -> str:
        return "Info: The configuration takes effect on the current user terminal interface only."

    # -- rollback ----------------------------------------------------------------------------
    def rollback_to(self, rest) -> str:
        if not rest or not rest[0].isdigit():
            return self.error_marker
        wanted = int(rest[0])
        self.state.running  # noqa: B018 - build the initial commit point
        for commit in self.state.commits:
            if commit.commit_id == wanted:
                return self.restore(commit.config)
        return f"Error: The commit ID {wanted} does not exist."

    def rollback_last(self, rest) -> str:
        if not rest or not rest[0].isdigit() or int(rest[0]) < 1:
            return self.error_marker
        self.state.running  # noqa: B018
        count = int(rest[0])
        commits = self.state.commits
        if count >= len(commits):
            return f"Error: Only {len(commits) - 1} commit point(s) can be rolled back."
        return self.restore(commits[-1 - count].config)

    def restore(self, config) -> str:
        self.state.running = config.copy()
        self.state.record_commit(self.username, "-", "rollback")
        if self.candidate is not None:
            self.candidate = self.state.running.copy()
            self.section = None
        return "Info: Succeeded in rolling back configurations."

    # -- displays ----------------------------------------------------------------------------
    def config_header(self, config_time=None) -> list[str]:
        state = self.state
        return [f"!Software Version {state.device.os_version}",
                f"!Last configuration was updated at {state.changed_at:%Y-%m-%d %H:%M:%S}+00:00 by {state.changed_by}",
                f"!Last configuration was saved at {state.changed_at:%Y-%m-%d %H:%M:%S}+00:00"]

    def display_current(self, rest) -> str:
        config = self.state.running
        if len(rest) >= 2 and rest[0].lower().startswith("int"):
            node = self.enter(config.copy(), " ".join(["interface"] + rest[1:]))
            return "#\n" + "\n".join([node.text] + [" " + c.text for c in node.children or ()]) + "\n#\nreturn"
        return config.render(self.config_header())

    def display_saved(self, rest) -> str:
        self.state.running  # noqa: B018
        return self.state.saved.render(self.config_header())

    def display_this(self, rest) -> str:
        config = self.working if self.mode == "system" else self.state.running
        if self.section is None:
            return config.render()
        node = self.section_in(config, self.section)
        return "#\n" + "\n".join([node.text] + [" " + c.text for c in node.children]) + "\n#\nreturn"

    def display_version(self, rest) -> str:
        device = self.state.device
        vrp = "8.210" if device.os_version.startswith("V800") else "5.170"
        return ("Huawei Versatile Routing Platform Software\n"
                f"VRP (R) software, Version {vrp} ({device.model} {device.os_version})\n"
                "Copyright (C) 2012-2023 Huawei Technologies Co., Ltd.\n"
                f"HUAWEI {device.model} uptime is {uptime_words(self.state.uptime_seconds())}\n")

    def display_interface_brief(self, rest) -> str:
        lines = ["PHY: Physical", "*down: administratively down", "^down: standby", "(l): loopback",
                 "(s): spoofing", "(b): BFD down", "(e): ETHOAM down", "(d): Dampening Suppressed",
                 "InUti/OutUti: input utility/output utility",
                 "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors"]
        for node in interfaces_of(self.state.running):
            name = node.text.split(None, 1)[1]
            virtual = name.startswith(("LoopBack", "NULL"))
            phy = "*down" if is_shutdown(node) else "up"
            proto = "down" if is_shutdown(node) else ("up(s)" if virtual else "up")
            uti = "--" if virtual else "0.01%"
            lines.append(f"{name:<27} {phy:<5} {proto:<9} {uti:>5} {uti:>6} {0:>10} {0:>10}")
        return "\n".join(lines)

    def display_ip_interface_brief(self, rest) -> str:
        lines = ["*down: administratively down", "^down: standby", "(l): loopback", "(s): spoofing",
                 f"The number of interface that is UP in Physical is {len(interfaces_of(self.state.running))}",
                 "Interface                         IP Address/Mask      Physical   Protocol"]
        for node in interfaces_of(self.state.running):
            name = node.text.split(None, 1)[1]
            address = "unassigned"
            for child in node.children:
                parts = child.text.split()
                if parts[:2] == ["ip", "address"] and len(parts) >= 4 and parts[3].count(".") == 3:
                    bits = sum(bin(int(o)).count("1") for o in parts[3].split("."))
                    address = f"{parts[2]}/{bits}"
            state = "*down" if is_shutdown(node) else "up"
            lines.append(f"{name:<33} {address:<20} {state:<10} {'down' if is_shutdown(node) else 'up'}")
        return "\n".join(lines)

    def display_interface_description(self, rest) -> str:
        lines = ["PHY: Physical", "*down: administratively down", "(l): loopback", "(s): spoofing",
                 "Interface                     PHY     Protocol Description"]
        for node in interfaces_of(self.state.running):
            name = self.abbreviate(node.text.split(None, 1)[1])
            lines.append(f"{name:<29} {'*down' if is_shutdown(node) else 'up':<7} "
                         f"{'down' if is_shutdown(node) else 'up':<8} {interface_description(node)}")
        return "\n".join(lines)

    def display_arp(self, rest) -> str:
        entries = arp_table(self.state)
        lines = ["IP ADDRESS      MAC ADDRESS     EXPIRE(M) TYPE        INTERFACE      VPN-INSTANCE",
                 "                                          VLAN/CEVLAN PVC",
                 "-" * 78]
        for e in entries:
            kind, expire = ("D-0", "20") if e.dynamic else ("I -", "")
            interface = self.abbreviate(e.interface)
            lines.append(f"{e.ip:<15} {mac_huawei(e.mac):<15} {expire:<9} {kind:<11} {interface}")
        dynamic = sum(1 for e in entries if e.dynamic)
        lines += ["-" * 78,
                  f"Total:{len(entries):<10}Dynamic:{dynamic:<8}Static:0     Interface:{len(entries) - dynamic}"]
        return "\n".join(lines)

    def display_mac(self, rest) -> str:
        entries = mac_table(self.state)
        if not entries:
            return "Info: No MAC address entry is found."
        rule = "-" * 79
        lines = [rule, "MAC Address    VLAN/VSI/BD                       Learned-From        Type", rule]
        for e in entries:
            lines.append(f"{mac_huawei(e.mac):<14} {str(e.vlan) + '/-/-':<33} "
                         f"{self.abbreviate(e.interface):<19} dynamic")
        lines += [rule, f"Total items displayed = {len(entries)}"]
        return "\n".join(lines)

    def display_lldp_brief(self, rest) -> str:
        lines = ["Local Intf       Neighbor Dev             Neighbor Intf             Exptime(s)"]
        for n in lldp_neighbours(self.state):
            lines.append(f"{self.abbreviate(n.local_interface):<16} {n.name:<24} {n.interface:<25} 104")
        return "\n".join(lines)

    def display_lldp(self, rest) -> str:
        blocks = []
        for n in lldp_neighbours(self.state):
            blocks.append("\n".join([
                f"{n.local_interface} has 1 neighbor(s):", "",
                "Neighbor index : 1",
                "Chassis type   : MAC address",
                f"Chassis ID     : {mac_huawei(n.chassis)}",
                "Port ID type   : Interface name",
                f"Port ID        : {n.interface}",
                f"Port description : {n.description or '--'}",
                f"System name    : {n.name}",
                f"System description : {n.vendor} {n.model} {n.os_version}",
                "System capabilities supported : bridge router",
                "System capabilities enabled   : bridge router",
                "Management address type  : ipv4",
                f"Management address value : {n.address}",
                "Expired time   : 104s", ""]))
        return "\n".join(blocks)

    def display_commits(self, rest) -> str:
        self.state.running  # noqa: B018
        rule = "-" * 80
        lines = [rule, "No.  CommitId         Label                  User            Date & Time", rule]
        for number, commit in enumerate(reversed(self.state.commits), 1):
            lines.append(f"{number:>3}  {commit.commit_id:<16} {commit.label:<22} {commit.user:<15} "
                         f"{commit.when:%Y-%m-%d %H:%M:%S}+00:00")
        return "\n".join(lines)

    def display_clock(self, rest) -> str:
        from datetime import datetime

        now = datetime.now()
        return f"{now:%Y-%m-%d %H:%M:%S}\n{now:%A}\nTime Zone(BJ) : UTC+08:00"

