"""The Driver protocol and what the vendor modules share: a netmiko session, parsing, normalising.

A driver speaks to one device over SSH with netmiko's stock driver for its platform. Reading
(config, facts, ARP, MAC table, LLDP) is here; pushing (load_candidate, diff, commit, rollback)
joins the protocol with the change pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

_REGISTRY: dict[str, type[Driver]] = {}


class DriverError(Exception):
    """A device-side failure an operator can act on: `code` is stable."""

    def __init__(self, code: str, message: str):
        self.code = code
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

    def __init__(self, info: ConnectionInfo):
        self.info = info
        self.session = None

    # -- session ---------------------------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        try:
            self.session = ConnectHandler(
                device_type=self.netmiko_type, host=self.info.host, port=self.info.port,
                username=self.info.username, password=self.info.password, timeout=self.info.timeout,
                conn_timeout=self.info.timeout, auth_timeout=self.info.timeout, banner_timeout=self.info.timeout,
                fast_cli=True, allow_agent=False, use_keys=False, ssh_config_file=None)
        except NetmikoAuthenticationException:
            raise DriverError("SSH_AUTH_FAILED", f"{self.info.name or self.info.host} refused the SSH login; check "
                                                 "the device's SSH credential.") from None
        except (NetmikoTimeoutException, OSError) as error:
            raise DriverError("SSH_UNREACHABLE", f"{self.info.name or self.info.host} did not answer SSH on port "
                                                 f"{self.info.port} ({error}).") from None

    def close(self):
        if self.session is not None:
            try:
                self.session.disconnect()
            finally:
                self.session = None

    def run(self, command: str) -> str:
        return self.session.send_command(command, read_timeout=self.info.timeout)

    def parse(self, command: str, output: str) -> list[dict]:
        """ntc-templates' parse of a command's output; [] when no template fits."""
        from ntc_templates.parse import parse_output

        try:
            return parse_output(platform=self.platform, command=command, data=output)
        except Exception:  # noqa: BLE001 - no template, or output the template does not match
            return []

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

    def get_facts(self) -> dict:
        output = self.run(self.version_command)
        return {"version_output": output[:4000]}

    def get_arp(self) -> list[dict]:
        """[{ip, mac, interface}] from the device's ARP table."""
        rows = self.parse(self.arp_command, self.run(self.arp_command))
        return [{"ip": _first(r, "ip_address", "address", "ip"), "mac": normalise_mac(_first(r, "mac_address", "mac")),
                 "interface": _first(r, "interface", "port")} for r in rows
                if _first(r, "ip_address", "address", "ip") and _first(r, "mac_address", "mac")]

    def get_mac_table(self) -> list[dict]:
        """[{mac, vlan, port}] from the device's MAC address table."""
        rows = self.parse(self.mac_command, self.run(self.mac_command))
        table = []
        for r in rows:
            port = _first(r, "destination_port", "interface", "port")
            if isinstance(port, list):
                port = port[0] if port else ""
            vlan = _first(r, "vlan_id", "vlan")
            table.append({"mac": normalise_mac(_first(r, "destination_address", "mac_address", "mac")),
                          "vlan": int(vlan) if str(vlan).isdigit() else None, "port": port})
        return [row for row in table if row["mac"] and row["port"]]

    def get_lldp_neighbors(self) -> list[dict]:
        """[{local_port, neighbor_name, neighbor_port}] from LLDP."""
        rows = self.parse(self.lldp_command, self.run(self.lldp_command))
        return [{"local_port": _first(r, "local_interface", "local_port"),
                 "neighbor_name": _first(r, "neighbor_name", "neighbor", "system_name"),
                 "neighbor_port": _first(r, "neighbor_interface", "neighbor_port_id", "port_id")} for r in rows
                if _first(r, "local_interface", "local_port")]


def _first(row: dict, *keys) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, "", []):
            return value
    return ""
