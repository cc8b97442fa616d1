"""The NAPALM driver every platform's driver extends: one SSH session over netmiko, reading and pushing.

`CliDriver` is a `napalm.base.NetworkDriver`, so it also works from Nornir and NAPALM's tooling, and returns
NAPALM's typed dicts. What is the same everywhere lives here: the session with its pinned host key, running
a command up to its prompt, ntc-templates parsing, the candidate (merge lines or a whole replacement), the
diff, and the push loop that stops at the first line the device refuses. Each platform's driver says how it
commits, confirms, rolls back and tells whether a commit waits for confirmation; a platform whose devices
cannot roll back by themselves gets `LocalRevertTimer` (a saved pre-change point restored by OneNet).

Use: `with driver_for(slug).from_info(ConnectionInfo(...)) as d: d.get_facts()`.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import textfsm
from napalm.base import NetworkDriver
from netmiko import ConnectHandler
from netmiko.base_connection import log as netmiko_log
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from platforms.hostkeys import HostKeyRefused, PinningClient, key_line
from platforms.parsing import _first, _parser, arp_from_text, normalise_mac
from web.errors import OneNetError

log = logging.getLogger(__name__)


class DriverError(OneNetError):
    """A device-side failure an operator can act on; `details` keep what the caller may store (the host key a
    refused server offered)."""


class LineRefused(DriverError):
    """The device refused a config line (DRIVER_COMMIT_FAILED): the push undoes what went before. Any other
    DriverError in the middle of a push (a lost session) cannot be undone from this session."""


@dataclass
class ConnectionInfo:
    host: str
    port: int
    username: str
    password: str
    name: str = ""
    timeout: float = 20.0
    # The pinned SSH host key (OpenSSH line); None: nothing pinned yet, trusted on first use when allowed.
    host_key: str | None = None
    trust_first_use: bool = True
    # A device without a commit-confirm of its own: commit_config(revert_in=) arms a LocalRevertTimer in this
    # process. Off for callers that keep their own durable deadline (the change pipeline: its confirm may come
    # from another process, which could not cancel this one's timer).
    local_revert: bool = True


class CliDriver(NetworkDriver):
    slug = ""
    config_command = ""
    startup_command = ""
    version_command = ""
    arp_command = ""
    mac_command = ""
    lldp_command = ""
    interfaces_command = ""
    # Lines that change without a config change (timestamps, byte counts): left out of stored versions.
    volatile_patterns: tuple[str, ...] = ()
    prompt_pattern = r"[>#]\s*$"  # the exec prompt's end
    config_prompt_pattern = r"\)#\s*$"  # the config-mode prompt's end
    exit_config_command = "end"
    logout_command = "exit"
    section_exit = "exit"  # leaves a section (VRP and Comware: quit)
    # A line the device refused: its error marker.
    error_pattern = re.compile(r"^\s*%\s*(Invalid|Incomplete|Ambiguous)|^\s*Error:", re.MULTILINE)
    # command -> (platform, command) of the ntc-templates template that reads its output
    templates: dict[str, tuple[str, str]] = {}

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict | None = None):
        options = optional_args or {}
        self.info = ConnectionInfo(hostname, int(options.get("port", 22)), username, password,
                                   options.get("name", hostname), timeout, options.get("host_key"),
                                   options.get("trust_first_use", True), options.get("local_revert", True))
        self.session = None
        # After open(): the server's host key (OpenSSH line), and whether it was seen for the first time.
        self.host_key: str | None = None
        self.host_key_first_use = False
        self._candidate: tuple[str, list[str]] | None = None  # ("merge" | "replace", lines)
        self._rollback_point = None  # what rollback() restores: a commit id, a file, the config text
        self._revert_timer: LocalRevertTimer | None = None

    @classmethod
    def from_info(cls, info: ConnectionInfo) -> CliDriver:
        return cls(info.host, info.username, info.password, int(info.timeout),
                   {"port": info.port, "name": info.name, "host_key": info.host_key,
                    "trust_first_use": info.trust_first_use, "local_revert": info.local_revert})

    @property
    def platform(self):
        from platforms.base import get

        return get(self.slug)

    @property
    def who(self) -> str:
        return self.info.name or self.info.host

    # -- session ---------------------------------------------------------------------------------------
    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        self.close()  # (NAPALM's own __exit__ prints an epilog to stdout for exceptions it does not know)
        return False

    def open(self) -> None:
        info = self.info
        session = ConnectHandler(
            device_type=self.platform.netmiko_type, host=info.host, port=info.port, username=info.username,
            password=info.password, timeout=info.timeout, conn_timeout=info.timeout, auth_timeout=info.timeout,
            banner_timeout=info.timeout, fast_cli=True, allow_agent=False, use_keys=False, ssh_config_file=None,
            auto_connect=False)
        client = PinningClient(info.host_key, info.trust_first_use)
        # netmiko's hook for the SSH client: ours checks the pinned key before any password goes out.
        session._build_ssh_client = lambda: client
        try:
            session._open()
            server_key = client.get_transport().get_remote_server_key()
            self.host_key, self.host_key_first_use = key_line(server_key), client.first_use_key is not None
            session.read_channel = self._noticing_a_drop(session.read_channel)
            self.session = session
        except HostKeyRefused as refused:
            _forget(session)
            if refused.code == "SSH_HOSTKEY_CHANGED":
                message = (f"{self.who} offered SSH host key {refused.offered_fingerprint}, not the one pinned for "
                           "it; no password was sent. If the device was replaced or re-keyed, review and accept "
                           "the new key on its page; otherwise something else answers at its address.")
            else:
                message = (f"{self.who} offered SSH host key {refused.offered_fingerprint} and no key is pinned "
                           "for it (ONENET_SSH_TRUST_FIRST_USE is off); no password was sent. Import its key with "
                           "the inventory, or review and accept it on its page.")
            raise DriverError(refused.code, message, offered_key=refused.offered_key,
                              offered_fingerprint=refused.offered_fingerprint) from None
        except NetmikoAuthenticationException:
            _forget(session)
            raise DriverError("SSH_AUTH_FAILED", f"{self.who} refused the SSH login; check the device's SSH "
                                                 "credential.") from None
        except (NetmikoTimeoutException, OSError) as error:
            _forget(session)
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DriverError("SSH_UNREACHABLE", f"{self.who} did not answer SSH on port {info.port} ({reason}); "
                                                 "check the address, the port and any firewall on the way.") from None
        except BaseException:
            _forget(session)
            raise

    def _noticing_a_drop(self, read_channel):
        """netmiko's read, raising SSH_SESSION_LOST once the device has closed the session (netmiko itself would
        wait for the prompt until its read timeout, 20 s, on a channel that can never answer again)."""

        def read() -> str:
            data = read_channel()
            channel = self.session.remote_conn if self.session is not None else None
            if not data and channel is not None and (channel.closed or channel.eof_received):
                raise DriverError("SSH_SESSION_LOST", f"{self.who} closed the SSH session.")
            return data

        return read

    def close(self) -> None:
        """Back to the exec view, log out, close the transport.

        Not netmiko's `disconnect()`: its cleanup asks "in config mode?" by sending Enter and waiting for 2 s
        of silence on platforms whose check has no prompt pattern (VRP, RGOS), most of a short session's time.
        A pending local revert timer stays armed: it opens its own session when it fires."""
        session, self.session = self.session, None
        if session is None:
            return
        try:
            session.write_channel(session.RETURN)
            prompt = session.read_until_pattern(pattern=self.prompt_pattern, read_timeout=5)
            if re.search(self.config_prompt_pattern, prompt):
                self.leave_config_mode(session)
            session.write_channel(self.logout_command + session.RETURN)
        except Exception:  # noqa: BLE001,S110 - the device may be gone already; close the transport anyway
            pass
        finally:
            _forget(session)

    def is_alive(self) -> dict:
        alive = self.session is not None and self.session.remote_conn is not None and \
            self.session.remote_conn.transport is not None and self.session.remote_conn.transport.is_active()
        return {"is_alive": bool(alive)}

    def leave_config_mode(self, session) -> None:
        session.write_channel(self.exit_config_command + session.RETURN)
        session.read_until_pattern(pattern=self.prompt_pattern, read_timeout=5)

    def _prompt_regex(self) -> str:
        # Config prompts cut long names (IOS at 20 characters) and add marks ("[~name", "name(config-if)#").
        return rf"{re.escape(self.session.base_prompt[:16])}[^\n]*[>#\]]\s*$"

    def run(self, command: str, read_timeout: float | None = None) -> str:
        """A command's output, up to the prompt that ends it."""
        # The prompt must end the output. netmiko's default (the bare prompt anywhere) also matches a late
        # prompt from session set-up sitting in front of the command's echo (Comware under load), and then
        # returns before the output, leaving it to the next command: an empty config, shifted tables.
        output = self.session.send_command(command, expect_string=self._prompt_regex(),
                                           read_timeout=read_timeout or self.info.timeout)
        # ...and that late prompt stays in front of the echo ("<name><name>display ..."): drop both.
        lines = output.split("\n")
        for number, line in enumerate(lines[:3]):
            if line.rstrip().endswith(command):
                return "\n".join(lines[number + 1:])
        return output

    def ask(self, command: str, question: str, answer: str) -> str:
        """A command that may ask a question (`[Y/N]`, a file name): answered, then read to the prompt."""
        session = self.session
        session.write_channel(command + session.RETURN)
        output = session.read_until_pattern(pattern=rf"{question}|{self._prompt_regex()}", read_timeout=30)
        if re.search(question, output):
            session.write_channel(answer + session.RETURN)
            output += session.read_until_pattern(pattern=self._prompt_regex(), read_timeout=60)
        return output

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        return {command: self.run(command) for command in commands}

    # -- reading ---------------------------------------------------------------------------------------
    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict:  # noqa: A002 - NAPALM's name
        running = self.run(self.config_command) if retrieve in ("all", "running") else ""
        startup = self.run(self.startup_command) if retrieve in ("all", "startup") and self.startup_command else ""
        if sanitized:
            running, startup = self.platform.mask_secrets(running), self.platform.mask_secrets(startup)
        return {"running": running, "startup": startup, "candidate": ""}

    def running_config(self) -> str:
        return self.get_config(retrieve="running")["running"]

    def normalise_config(self, text: str) -> str:
        """The config without volatile lines and trailing blanks, so an unchanged config hashes the same."""
        patterns = [re.compile(p) for p in self.volatile_patterns]
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        kept = [line for line in lines if not any(p.match(line) for p in patterns)]
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        return "\n".join(kept) + "\n"

    def get_facts(self) -> dict:
        tree = self.platform.parse(self.running_config())
        hostname = next((n.text.split(None, 1)[1] for n in tree.nodes
                         if n.kind == "line" and re.match(r"(sysname|hostname) \S", n.text)), self.who)
        facts = {"vendor": self.platform.vendor, "hostname": hostname, "fqdn": hostname, "model": "",
                 "os_version": "", "serial_number": "", "uptime": -1.0,
                 "interface_list": [n.text.split(None, 1)[1] for n in tree.sections("interface ")]}
        facts.update(self.parse_version(self.run(self.version_command)))
        return facts

    def parse_version(self, output: str) -> dict:
        """model, os_version, uptime (seconds) and serial_number from the version command's output."""
        return {}

    def get_interfaces(self) -> dict[str, dict]:
        tree = self.platform.parse(self.running_config())
        status = self.parse_interface_status(self.run(self.interfaces_command))
        interfaces = {}
        for node in tree.sections("interface "):
            name = node.text.split(None, 1)[1]
            children = [c.text for c in node.children if c.kind == "line"]
            enabled = "shutdown" not in children
            description = next((c.split(None, 1)[1] for c in children if c.startswith("description ")), "")
            mtu = next((int(c.split()[1]) for c in children if re.fullmatch(r"mtu \d+", c)), 1500)
            interfaces[name] = {"is_enabled": enabled, "is_up": bool(status.get(name, enabled)),
                                "description": description, "last_flapped": -1.0, "mtu": mtu, "speed": -1.0,
                                "mac_address": ""}
        return interfaces

    def parse_interface_status(self, output: str) -> dict[str, bool]:
        """Interface (full name) → whether it is up, from the interfaces brief table: `name ... up/down`."""
        status = {}
        for line in output.splitlines():
            found = re.match(r"^\s*([A-Za-z][\w/.:-]*(?: \d[\d/.:]*)?)\s+(\*?(?:up|down|UP|DOWN|ADM|administratively"
                             r")\S*)", line)
            if found:
                status[self.platform.expand_interface(found.group(1))] = found.group(2).lower().startswith("up")
        return status

    def get_arp_table(self, vrf: str = "") -> list[dict]:
        return [{"interface": self.platform.expand_interface(row["interface"]), "mac": row["mac"], "ip": row["ip"],
                 "age": row.get("age", -1.0)} for row in self.parse_arp(self.run(self.arp_command))]

    def get_mac_address_table(self) -> list[dict]:
        return [{"mac": row["mac"], "interface": self.platform.expand_interface(row["port"]),
                 "vlan": row["vlan"] or 0, "static": False, "active": True, "moves": -1, "last_move": -1.0}
                for row in self.parse_mac_table(self.run(self.mac_command))]

    def get_lldp_neighbors(self) -> dict[str, list[dict]]:
        """Local port (full name) → [{hostname, port}], the neighbour's port as the neighbour announces it."""
        neighbours: dict[str, list[dict]] = {}
        for row in self.parse_lldp(self.run(self.lldp_command)):
            neighbours.setdefault(self.platform.expand_interface(row["local_port"]), []).append(
                {"hostname": row["neighbor_name"], "port": row["neighbor_port"] or ""})
        return neighbours

    # -- parsing (a platform without a template overrides these) -----------------------------------------
    def parse(self, command: str, output: str) -> list[dict]:
        """ntc-templates' parse of a command's output; [] when no template fits."""
        platform, template_command = self.templates.get(command, (self.slug, command))
        fsm = _parser(platform, template_command)
        if fsm is None:
            return []
        try:
            fsm.Reset()
            return [{key.lower(): value for key, value in row.items()} for row in fsm.ParseTextToDicts(output)]
        except textfsm.TextFSMError as error:  # output the template does not match
            log.debug("%s: %r does not parse: %s", self.who, command, error)
            return []

    def parse_arp(self, output: str) -> list[dict]:
        rows = [{"ip": _first(r, "ip_address", "address", "ip"), "mac": normalise_mac(_first(r, "mac_address", "mac")),
                 "interface": _first(r, "interface", "port")} for r in self.parse(self.arp_command, output)]
        rows = [row for row in rows if row["ip"] and row["mac"] != ""]
        return rows or arp_from_text(output)

    def parse_mac_table(self, output: str) -> list[dict]:
        table = []
        for r in self.parse(self.mac_command, output):
            port = _first(r, "destination_port", "interface", "port")
            if isinstance(port, list):
                port = port[0] if port else ""
            vlan = _first(r, "vlan_id", "vlan")
            table.append({"mac": normalise_mac(_first(r, "destination_address", "mac_address", "mac")),
                          "vlan": int(vlan) if str(vlan).isdigit() else None, "port": port})
        return [row for row in table if row["mac"] and row["port"]]

    def parse_lldp(self, output: str) -> list[dict]:
        rows = self.parse(self.lldp_command, output)
        return [{"local_port": _first(r, "local_interface", "local_port"),
                 "neighbor_name": _first(r, "neighbor_name", "neighbor", "system_name"),
                 "neighbor_port": _first(r, "neighbor_interface", "neighbor_port_id", "port_id")} for r in rows
                if _first(r, "local_interface", "local_port")]

    # -- the candidate ---------------------------------------------------------------------------------
    def load_merge_candidate(self, filename: str | None = None, config: str | list[str] | None = None) -> None:
        """Lines to add to the running config, written as in a config file (sections at column 0, their lines
        indented under them; `undo`/`no` lines remove)."""
        self._candidate = ("merge", _candidate_lines(filename, config))

    def load_replace_candidate(self, filename: str | None = None, config: str | list[str] | None = None) -> None:
        """A whole config the device should end up with; commit pushes the remediation that gets it there."""
        self._candidate = ("replace", _candidate_lines(filename, config))

    def discard_config(self) -> None:
        self._candidate = None

    def candidate_lines(self, running: str) -> list[str]:
        """The config-file lines a commit pushes: the merge lines, or the remediation towards the replacement."""
        if self._candidate is None:
            raise DriverError("DRIVER_NO_CANDIDATE", f"nothing is loaded for {self.who}; load a merge or replace "
                                                     "candidate first.")
        kind, lines = self._candidate
        if kind == "merge":
            return lines
        from platforms.remediation import remediation

        return remediation(self.platform, running, "\n".join(lines))

    def predicted_config(self, running: str) -> list[str]:
        """The running config's lines as they will read after the commit."""
        return self.platform.parse(running).apply_lines(self.candidate_lines(running)).lines()

    def compare_config(self) -> str:
        """What the commit would change, as a unified diff of the config's lines (empty: no change)."""
        running = self.running_config()
        before = self.platform.parse(running).lines()
        after = self.predicted_config(running)
        return "\n".join(difflib.unified_diff(before, after, "running", "candidate", lineterm="", n=1))

    # -- pushing ---------------------------------------------------------------------------------------
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Push the candidate. With `revert_in` (seconds) the device goes back to its config of before by itself
        unless confirm_commit() comes first. A line the device refuses undoes what was pushed and raises
        DRIVER_COMMIT_FAILED: a device is never left half-changed."""
        if self.has_pending_commit():
            raise DriverError("DRIVER_COMMIT_PENDING", f"{self.who} has a commit waiting for confirmation; confirm "
                                                       "or roll it back first.")
        running = self.running_config()
        lines = self.candidate_lines(running)
        if lines:
            self.push(self.device_lines(lines), message, revert_in)
        self._candidate = None

    def device_lines(self, lines: list[str]) -> list[str]:
        """Config-file lines as typed on the device: the section exit after each section's lines."""
        out, in_section = [], False
        for line in lines:
            if not line.strip() or self.platform.grammar.is_decoration(line.strip()):
                continue
            indented = line[:1] in (" ", "\t")
            if not indented and in_section:
                out.append(self.section_exit)
                in_section = False
            if not indented and self.platform.grammar.section_openers.match(line.strip()):
                in_section = True
            out.append(line.strip())
        if in_section:
            out.append(self.section_exit)
        return out

    def send_config_lines(self, lines: list[str]) -> None:
        """Type the lines in config mode (already entered), one at a time; the first one the device refuses
        raises DRIVER_COMMIT_FAILED naming it (the caller then undoes what went before)."""
        prompt = self._prompt_regex()
        for line in lines:
            output = self.session.send_command(line, expect_string=prompt, read_timeout=self.info.timeout,
                                               strip_prompt=False, strip_command=False)
            if self.error_pattern.search(output):
                error = next((text.strip() for text in output.splitlines() if self.error_pattern.search(text)),
                             output.strip())
                raise LineRefused("DRIVER_COMMIT_FAILED", f"{self.who} refused {line!r}: {error}")

    def push(self, lines: list[str], message: str, revert_in: int | None) -> None:
        raise NotImplementedError

    def confirm_commit(self) -> None:
        raise NotImplementedError

    def has_pending_commit(self) -> bool:
        return self._revert_timer is not None and self._revert_timer.pending

    def rollback(self) -> None:
        raise NotImplementedError

    # -- the local revert timer (platforms without a commit-confirm of their own) -------------------------
    def arm_local_revert(self, revert_in: int, restore: Callable[[CliDriver], None]) -> None:
        if self.info.local_revert:
            self._revert_timer = LocalRevertTimer(self, revert_in, restore)

    def confirm_local_revert(self) -> None:
        if not self.has_pending_commit():
            raise DriverError("DRIVER_NO_PENDING_COMMIT", f"{self.who} has no commit waiting for confirmation.")
        self._revert_timer.cancel()


class LocalRevertTimer:
    """Restores a device's pre-change point after `seconds` unless cancelled: the commit-confirm of platforms
    that have none. It opens its own session when it fires (the one that pushed may be closed by then). It lives
    in this process: the change pipeline keeps its own deadline too, in case the process dies."""

    def __init__(self, driver: CliDriver, seconds: int, restore: Callable[[CliDriver], None]):
        self.info, self.driver_class, self.restore = driver.info, type(driver), restore
        self.done = threading.Event()
        self.error: Exception | None = None
        self.timer = threading.Timer(seconds, self.fire)
        self.timer.daemon = True
        self.timer.start()

    @property
    def pending(self) -> bool:
        return not self.done.is_set()

    def cancel(self) -> None:
        self.timer.cancel()
        self.done.set()

    def fire(self) -> None:
        if self.done.is_set():
            return
        try:
            with self.driver_class.from_info(self.info) as driver:
                self.restore(driver)
            log.warning("%s: the commit was not confirmed in time and was rolled back", self.info.name)
        except Exception as error:  # noqa: BLE001 - recorded for whoever asks; logged for the operator
            self.error = error
            log.error("%s: rolling back the unconfirmed commit failed: %s", self.info.name, error)
        finally:
            self.done.set()


def _candidate_lines(filename: str | None, config: str | list[str] | None) -> list[str]:
    if filename:
        config = Path(filename).read_text()
    if config is None:
        raise DriverError("DRIVER_NO_CANDIDATE", "load_*_candidate needs a file name or the config itself.")
    lines = config.split("\n") if isinstance(config, str) else list(config)
    return [line.rstrip() for line in lines if line.strip()]


def _forget(session) -> None:
    """Close a netmiko session's transport and drop its log filter (netmiko adds one per session to its module
    logger and removes it only in its own disconnect(): thousands of backups would pile them up)."""
    try:
        session.paramiko_cleanup()
    except Exception:  # noqa: BLE001,S110 - never connected, or already gone
        pass
    if session.session_log:
        session.session_log.close()
    netmiko_log.removeFilter(session._secrets_filter)
