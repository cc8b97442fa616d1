"""The Driver protocol and what the vendor modules share: a netmiko session, parsing, normalising.

A driver speaks to one device over SSH with netmiko's stock driver for its platform. Reading
(config, facts, ARP, MAC table, LLDP) is here; pushing (load_candidate, diff, commit, rollback)
joins the protocol with the change pipeline.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import textfsm
from netmiko import ConnectHandler
from netmiko.base_connection import log as netmiko_log
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

from collectors.drivers.hostkeys import HostKeyRefused, PinningClient
from collectors.drivers.secrets import SecretRule, mask_config
from inventory.sshkeys import key_line

log = logging.getLogger(__name__)
_REGISTRY: dict[str, type[Driver]] = {}


class DriverError(Exception):
    """A device-side failure an operator can act on: `code` is stable; `details` what the caller may keep
    (the host key a refused server offered)."""

    def __init__(self, code: str, message: str, **details):
        self.code = code
        self.details = details
        super().__init__(f"{code}: {message}")


def register(cls):
    _REGISTRY[cls.platform] = cls
    return cls


def driver_for(platform: str) -> type[Driver]:
    try:
        return _REGISTRY[platform]
    except KeyError:
        raise DriverError("PLATFORM_UNKNOWN", f"no driver for platform {platform!r}; expected one of "
                                              f"{', '.join(sorted(_REGISTRY))}") from None


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


# The short interface names vendors print in their tables, per platform, and the full names the inventory
# (and the config) use. Longest abbreviation first; an abbreviation only counts when a digit follows it.
INTERFACE_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "huawei_vrp": (("XGE", "XGigabitEthernet"), ("GE", "GigabitEthernet"), ("Loop", "LoopBack"),
                   ("Eth", "Ethernet"), ("Tun", "Tunnel")),
    "hp_comware": (("BAGG", "Bridge-Aggregation"), ("RAGG", "Route-Aggregation"), ("MGE", "M-GigabitEthernet"),
                   ("XGE", "Ten-GigabitEthernet"), ("FGE", "FortyGigE"), ("HGE", "HundredGigE"),
                   ("WGE", "TwentyGigE"), ("GE", "GigabitEthernet"), ("Vlan", "Vlan-interface"),
                   ("Loop", "LoopBack"), ("Tun", "Tunnel")),
    "cisco_ios": (("Twe", "TwentyFiveGigE"), ("Gi", "GigabitEthernet"), ("Te", "TenGigabitEthernet"),
                  ("Fa", "FastEthernet"), ("Fo", "FortyGigabitEthernet"), ("Hu", "HundredGigE"),
                  ("Tw", "TwoGigabitEthernet"), ("Et", "Ethernet"), ("Po", "Port-channel"), ("Lo", "Loopback"),
                  ("Vl", "Vlan"), ("Tu", "Tunnel")),
    # RGOS writes a space between the type and the number ("GigabitEthernet 0/1").
    "ruijie_os": (("Gi", "GigabitEthernet "), ("Te", "TenGigabitEthernet "), ("Fa", "FastEthernet "),
                  ("Ag", "AggregatePort "), ("Lo", "Loopback "), ("Vl", "VLAN "), ("Tu", "Tunnel ")),
}


def expand_interface(name: str, platform: str) -> str:
    """A vendor's abbreviated interface name as the full name (GE0/0/2 → GigabitEthernet0/0/2 on VRP,
    XGE1/0/1 → Ten-GigabitEthernet1/0/1 on Comware, Gi0/1 → GigabitEthernet 0/1 on RGOS). Full names and
    names of unknown types come back as they are (RGOS full names get their space)."""
    name = (name or "").strip()
    table = INTERFACE_ABBREVIATIONS.get(platform, ())
    for _short, long in table:
        full = long.rstrip()
        if name.lower().startswith(full.lower()):
            rest = name[len(full):].lstrip()
            return long + rest if rest[:1].isdigit() else name
    for short, long in table:
        rest = name[len(short):].lstrip()
        if name.lower().startswith(short.lower()) and rest[:1].isdigit():
            return long + rest
    return name


def normalise_mac(mac: str) -> str:
    """Any vendor's MAC notation (xxxx-xxxx-xxxx, xxxx.xxxx.xxxx, xx:xx:...) as aa:bb:cc:dd:ee:ff."""
    digits = re.sub(r"[^0-9a-fA-F]", "", mac or "").lower()
    if len(digits) != 12:
        return (mac or "").lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


class Driver:
    """Base of the vendor drivers. Use as a context manager: `with driver_for(p)(info) as d: d.get_config()`."""

    platform = ""
    netmiko_type = ""
    config_command = ""
    arp_command = ""
    mac_command = ""
    lldp_command = ""
    version_command = ""
    # Lines that change without a config change (timestamps, byte counts): left out of stored versions.
    volatile_patterns: tuple[str, ...] = ()
    # Where this platform's configs hold secrets (collectors/drivers/secrets.py).
    secret_rules: tuple[SecretRule, ...] = ()
    # The exec prompt's end, the config-mode prompt's end, and the commands that leave them (see close()).
    prompt_pattern = r"[>#]\s*$"
    config_prompt_pattern = r"\)#\s*$"
    exit_config_command = "end"
    logout_command = "exit"
    # command -> (platform, command) of the ntc-templates template that reads its output
    templates: dict[str, tuple[str, str]] = {}

    def __init__(self, info: ConnectionInfo):
        self.info = info
        self.session = None
        # After connect(): the server's host key (OpenSSH line), and whether it was seen for the first time.
        self.host_key: str | None = None
        self.host_key_first_use = False

    # -- session ---------------------------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        who = self.info.name or self.info.host
        session = ConnectHandler(
            device_type=self.netmiko_type, host=self.info.host, port=self.info.port,
            username=self.info.username, password=self.info.password, timeout=self.info.timeout,
            conn_timeout=self.info.timeout, auth_timeout=self.info.timeout, banner_timeout=self.info.timeout,
            fast_cli=True, allow_agent=False, use_keys=False, ssh_config_file=None, auto_connect=False)
        client = PinningClient(self.info.host_key, self.info.trust_first_use)
        session._build_ssh_client = lambda: client
        try:
            session._open()
            server_key = client.get_transport().get_remote_server_key()
            self.host_key, self.host_key_first_use = key_line(server_key), client.first_use_key is not None
            self.session = session
        except HostKeyRefused as refused:
            _forget(session)
            if refused.code == "SSH_HOSTKEY_CHANGED":
                message = (f"{who} offered SSH host key {refused.offered_fingerprint}, not the one pinned for it; "
                           "no password was sent. If the device was replaced or re-keyed, review and accept the "
                           "new key on its page; otherwise something else answers at its address.")
            else:
                message = (f"{who} offered SSH host key {refused.offered_fingerprint} and no key is pinned for it "
                           "(ONENET_SSH_TRUST_FIRST_USE is off); no password was sent. Import its key with the "
                           "inventory, or review and accept it on its page.")
            raise DriverError(refused.code, message, offered_key=refused.offered_key,
                              offered_fingerprint=refused.offered_fingerprint) from None
        except NetmikoAuthenticationException:
            _forget(session)
            raise DriverError("SSH_AUTH_FAILED", f"{self.info.name or self.info.host} refused the SSH login; check "
                                                 "the device's SSH credential.") from None
        except (NetmikoTimeoutException, OSError) as error:
            _forget(session)
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DriverError("SSH_UNREACHABLE", f"{self.info.name or self.info.host} did not answer SSH on port "
                                                 f"{self.info.port} ({reason}); check the address, the port and "
                                                 "any firewall on the way.") from None
        except BaseException:
            _forget(session)
            raise

    def close(self):
        """Back to the exec view, log out, close the transport.

        Not netmiko's `disconnect()`: its cleanup asks "in config mode?" by sending Enter and waiting for
        2 s of silence on platforms whose check has no prompt pattern (VRP, RGOS), which was most of a
        read-only session's time. Here every read stops at the prompt."""
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

    def leave_config_mode(self, session):
        session.write_channel(self.exit_config_command + session.RETURN)
        session.read_until_pattern(pattern=self.prompt_pattern, read_timeout=5)

    def run(self, command: str) -> str:
        # The prompt must end the output. netmiko's default (the bare prompt anywhere) also matches a late
        # prompt from session set-up sitting in front of the command's echo (Comware under load), and then
        # returns before the output, leaving it to the next command: an empty config, shifted tables.
        prompt = rf"{re.escape(self.session.base_prompt)}[^\n]*[>#\]]\s*$"
        output = self.session.send_command(command, expect_string=prompt, read_timeout=self.info.timeout)
        # ...and that late prompt stays in front of the echo ("<name><name>display ..."): drop both, or a
        # config would look changed and a table would not parse.
        lines = output.split("\n")
        for number, line in enumerate(lines[:3]):
            if line.rstrip().endswith(command):
                return "\n".join(lines[number + 1:])
        return output

    def parse(self, command: str, output: str) -> list[dict]:
        """ntc-templates' parse of a command's output; [] when no template fits.

        `templates` maps a command to the (platform, command) whose template reads its output, for commands
        that print the same table as one with a template (VRP's `display arp` is `display arp all`'s)."""
        platform, template_command = self.templates.get(command, (self.platform, command))
        fsm = _parser(platform, template_command)
        if fsm is None:
            log.debug("%s: no template for %r", self.info.name or self.info.host, command)
            return []
        try:
            fsm.Reset()
            return [{key.lower(): value for key, value in row.items()} for row in fsm.ParseTextToDicts(output)]
        except textfsm.TextFSMError as error:  # output the template does not match
            log.debug("%s: %r does not parse: %s", self.info.name or self.info.host, command, error)
            return []

    def expand(self, name: str) -> str:
        """A table's interface name as the full name the inventory uses."""
        return expand_interface(name, self.platform)

    # -- reading ---------------------------------------------------------------------------
    def get_config(self) -> str:
        return self.run(self.config_command)

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

    @classmethod
    def mask_secrets(cls, text: str) -> str:
        """The config as everyone but administrators sees it: secrets replaced by a keyed hash."""
        return mask_config(text, cls.secret_rules)

    def get_facts(self) -> dict:
        output = self.run(self.version_command)
        return {"version_output": output[:4000]}

    def get_arp(self) -> list[dict]:
        """[{ip, mac, interface}] from the device's ARP table, full interface names."""
        return [{**row, "interface": self.expand(row["interface"])}
                for row in self.parse_arp(self.run(self.arp_command))]

    def get_mac_table(self) -> list[dict]:
        """[{mac, vlan, port}] from the device's MAC address table, full interface names."""
        return [{**row, "port": self.expand(row["port"])} for row in self.parse_mac_table(self.run(self.mac_command))]

    def get_lldp_neighbors(self) -> list[dict]:
        """[{local_port, neighbor_name, neighbor_port}] from LLDP; the local port by its full name, the
        neighbour's port as the neighbour announces it."""
        return [{**row, "local_port": self.expand(row["local_port"])}
                for row in self.parse_lldp(self.run(self.lldp_command))]

    # -- parsing (a vendor without a template overrides these) -------------------------------------
    def parse_arp(self, output: str) -> list[dict]:
        rows = self.parse(self.arp_command, output)
        return [{"ip": _first(r, "ip_address", "address", "ip"), "mac": normalise_mac(_first(r, "mac_address", "mac")),
                 "interface": _first(r, "interface", "port")} for r in rows
                if _first(r, "ip_address", "address", "ip") and _first(r, "mac_address", "mac")]

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


def _forget(session):
    """Close a netmiko session's transport and drop its log filter (netmiko adds one per session to its module
    logger and removes it only in its own disconnect(): thousands of backups would pile them up)."""
    try:
        session.paramiko_cleanup()
    except Exception:  # noqa: BLE001,S110 - never connected, or already gone
        pass
    if session.session_log:
        session.session_log.close()
    netmiko_log.removeFilter(session._secrets_filter)


@functools.cache
def _template(platform: str, command: str) -> str | None:
    """The text of ntc-templates' template for a platform's command (looked up once: ntc-templates'
    `parse_output` looks it up and compiles it on every call, ~11 ms each, all of it holding the GIL)."""
    from ntc_templates.parse import _get_template_dir
    from textfsm import clitable

    directory = _get_template_dir()
    index = clitable.CliTable("index", directory).index
    row = index.GetRowMatch({"Command": command, "Platform": platform})
    if not row:
        return None
    names = index.index[row]["Template"].split(":")
    return Path(directory, names[0]).read_text()


_parsers = threading.local()


def _parser(platform: str, command: str) -> textfsm.TextFSM | None:
    """This thread's compiled TextFSM for the template (a TextFSM holds parse state: one per thread)."""
    cache = _parsers.__dict__.setdefault("fsm", {})
    if (platform, command) not in cache:
        template = _template(platform, command)
        cache[platform, command] = None if template is None else textfsm.TextFSM(io.StringIO(template))
    return cache[platform, command]


def _first(row: dict, *keys) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, "", []):
            return value
    return ""
