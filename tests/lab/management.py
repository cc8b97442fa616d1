"""Config lines that change a lab device's management plane, per platform, and probes that tell what reaches it.

For the lab's management-plane tests and for the change pipeline's tests, which push these lines with the
project's drivers (config-file lines: a section's lines one space in under it, as `load_merge_candidate` takes):

    cut_management_lines(device)          a deny-all ACL bound to the VTY lines (SSH) and to the SNMP community
    restore_management_lines(device)      the baseline bindings back, the deny-all ACL removed
    shut_uplink_lines(topology, device)   shut the interface management rides over: the device is cut off
    unshut_uplink_lines(topology, device)
    shut_lines(device, interface), unshut_lines(device, interface)
    deny_acl_lines, remove_deny_acl_lines, vty_acl_lines(device, acl), snmp_acl_lines(device, acl)

Probes: `ssh_refused` (the device closes a new connection before its SSH banner), `snmp_silent`, `wait_until`;
`pick` chooses a device of a platform with an uplink and a port up besides it; `connect` opens the project's
driver; `Shell` is a raw interactive session that sees the device drop it at once.
The hidden lab-only command `lab-fault` is documented in lab/ssh/management.py.
"""

from __future__ import annotations

import re
import socket
import time

import paramiko
import pytest

from lab.services import snmp_answers
from lab.ssh.configs import NMS_ACL, LabIndex, config_community, is_switch, is_two_stage
from lab.topology import SSH_PASSWORD, SSH_USERNAME
from platforms import ConnectionInfo, open_driver

DEADLINE_S = 30  # how long anything may take under load; a bound, never a timing assertion
DENY_ACL = {"huawei_vrp": "2999", "hp_comware": "2999", "cisco_ios": "98", "ruijie_os": "98"}
VRP_FAMILY = ("huawei_vrp", "hp_comware")


# -- config lines ---------------------------------------------------------------------------------------
def deny_acl_lines(device) -> list[str]:
    """An ACL that denies everyone (DENY_ACL's number)."""
    acl = DENY_ACL[device.platform]
    if device.platform == "huawei_vrp":
        return [f"acl number {acl}", " rule 5 deny"]
    if device.platform == "hp_comware":
        return [f"acl basic {acl}", " rule 5 deny"]
    return [f"access-list {acl} deny any"]


def remove_deny_acl_lines(device) -> list[str]:
    acl = DENY_ACL[device.platform]
    return {"huawei_vrp": [f"undo acl number {acl}"], "hp_comware": [f"undo acl basic {acl}"]}.get(
        device.platform, [f"no access-list {acl}"])


def vty_acl_lines(device, acl: str) -> list[str]:
    """Bind `acl` to new SSH logins (it replaces the ACL bound there)."""
    if device.platform == "huawei_vrp":
        return ["user-interface vty 0 4", f" acl {acl} inbound"]
    if device.platform == "hp_comware":
        return [f"ssh server acl {acl}"]
    return ["line vty 0 4", f" access-class {acl} in"]


def snmp_acl_lines(device, acl: str) -> list[str]:
    """Bind `acl` to the device's SNMP read community (it replaces the ACL bound there)."""
    community = config_community(device)
    if device.platform in VRP_FAMILY:
        return [f"snmp-agent community read cipher {community} acl {acl}"]
    return [f"snmp-server community {community} RO {acl}"]


def cut_management_lines(device) -> list[str]:
    """Cut the device's management off: a deny-all ACL bound to the VTY lines and to the SNMP community."""
    acl = DENY_ACL[device.platform]
    return [*deny_acl_lines(device), *snmp_acl_lines(device, acl), *vty_acl_lines(device, acl)]


def restore_management_lines(device) -> list[str]:
    """What undoes cut_management_lines: the baseline ACL bound again, the deny-all ACL removed."""
    acl = NMS_ACL[device.platform]
    return [*snmp_acl_lines(device, acl), *vty_acl_lines(device, acl), *remove_deny_acl_lines(device)]


def shut_lines(device, interface: str) -> list[str]:
    return [f"interface {interface}", " shutdown"]


def unshut_lines(device, interface: str) -> list[str]:
    return [f"interface {interface}", " undo shutdown" if device.platform in VRP_FAMILY else " no shutdown"]


def uplink(topology, device) -> str:
    """The interface the device's management rides over: its uplink towards the core."""
    return LabIndex.build(topology).uplinks[device.name].local_interface


def shut_uplink_lines(topology, device) -> list[str]:
    return shut_lines(device, uplink(topology, device))


def unshut_uplink_lines(topology, device) -> list[str]:
    return unshut_lines(device, uplink(topology, device))


def typed(device, lines: list[str]) -> list[str]:
    """Config-file lines as typed in config mode: a section's lines followed by the command that leaves it."""
    leave = "quit" if device.platform in VRP_FAMILY else "exit"
    out, inside = [], False
    for line in lines:
        if not line.startswith(" ") and inside:
            out.append(leave)
            inside = False
        inside = inside or line.startswith(" ")
        out.append(line.strip())
    return out + ([leave] if inside else [])


# -- devices and sessions -----------------------------------------------------------------------------------
def pick(topology, platform: str, two_stage: bool | None = None):
    """A routed device of the platform with no planted fault, reachable by SNMPv2c, with an uplink and a port up
    besides it (the last such one: the other lab tests take theirs from the front)."""
    index = LabIndex.build(topology)
    linked = {(link.a_device, link.a_interface) for link in topology.links} | \
        {(link.b_device, link.b_interface) for link in topology.links}
    found = [d for d in topology.devices
             if d.platform == platform and d.status == "active" and not is_switch(d) and not d.faults
             and d.snmp_version == "2c" and (two_stage is None or is_two_stage(d) == two_stage)
             and d.name in index.uplinks and other_port(topology, d, index, linked)]
    return found[-1]


def other_port(topology, device, index=None, linked=None) -> str | None:
    """A port besides the uplink that SNMP shows up (it has a link or a description)."""
    index = index or LabIndex.build(topology)
    linked = linked if linked is not None else {(link.a_device, link.a_interface) for link in topology.links} | \
        {(link.b_device, link.b_interface) for link in topology.links}
    up = index.uplinks[device.name].local_interface
    return next((i.name for i in device.interfaces if i.kind == "ethernet" and i.name != up
                 and ((device.name, i.name) in linked or i.description)), None)


def connect(device, port: int):
    """The project's driver for the device, open."""
    driver = open_driver(device.platform, ConnectionInfo(device.address, port, SSH_USERNAME, SSH_PASSWORD,
                                                         name=device.name, timeout=DEADLINE_S))
    driver.open()
    return driver


def push(driver, lines: list[str], revert_in: int | None = None) -> None:
    """Push config-file lines the way the change pipeline does (merge candidate, commit)."""
    driver.load_merge_candidate(config=lines)
    driver.commit_config(revert_in=revert_in)


class Shell:
    """A raw interactive SSH session, read up to the device's prompt; it sees at once when the device drops it."""

    def __init__(self, device, port: int):
        name = re.escape(device.name)
        if device.platform in VRP_FAMILY:
            self.prompt = re.compile(rf"(<{name}>|\[[~*]?{name}(-[^\]\n]*)?\])\Z")
        else:
            self.prompt = re.compile(rf"({name}[#>]|{re.escape(device.name[:20])}\([^)\n]*\)#)\Z")
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # the lab's throwaway key
        self.client.connect(device.address, port, SSH_USERNAME, SSH_PASSWORD, timeout=DEADLINE_S,
                            banner_timeout=DEADLINE_S, auth_timeout=DEADLINE_S, look_for_keys=False,
                            allow_agent=False)
        self.channel = self.client.invoke_shell(width=200)
        self.channel.settimeout(DEADLINE_S)
        self.read()

    def read(self) -> str:
        """Up to the prompt; raises EOFError if the device closes the session first."""
        buffer = ""
        deadline = time.monotonic() + DEADLINE_S
        while not self.prompt.search(buffer):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no prompt after {buffer!r}")
            data = self.channel.recv(65536)
            if not data:
                raise EOFError(buffer)
            buffer += data.decode().replace("\r\n", "\n")
        return buffer

    def send(self, line: str) -> str:
        """The command's output, without its echo and the prompt that follows."""
        self.channel.send(line + "\n")
        return "\n".join(self.read().split("\n")[1:-1])

    @property
    def dropped(self) -> bool:
        """Whether the device has closed this session (the channel sees end of file)."""
        transport = self.client.get_transport()
        return self.channel.closed or self.channel.eof_received or transport is None or not transport.is_active()

    def close(self) -> None:
        self.client.close()


def run(device, port: int, command: str) -> str:
    """One command in its own exec session (`ssh device "command"`)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(device.address, port, SSH_USERNAME, SSH_PASSWORD, timeout=DEADLINE_S, banner_timeout=DEADLINE_S,
                   auth_timeout=DEADLINE_S, look_for_keys=False, allow_agent=False)
    try:
        _, stdout, _ = client.exec_command(command, timeout=DEADLINE_S)
        return stdout.read().decode().replace("\r\n", "\n")
    finally:
        client.close()


def running_config(device, port: int) -> list[str]:
    """The running config's lines, without the header lines that carry times and sizes."""
    command = "display current-configuration" if device.platform in VRP_FAMILY else "show running-config"
    return [line for line in run(device, port, command).splitlines()
            if not line.startswith(("!Last", "! Last", "! NVRAM", "Current configuration", "!Software"))]


# -- probes ---------------------------------------------------------------------------------------------------
def ssh_refused(device, port: int) -> bool:
    """True when the device closes a new TCP connection before its SSH banner (a VTY ACL, or a device cut off);
    False when the banner comes."""
    with socket.create_connection((device.address, port), timeout=DEADLINE_S) as conn:
        conn.settimeout(DEADLINE_S)
        try:
            return conn.recv(64) == b""
        except ConnectionResetError:
            return True


def snmp_silent(device, port: int, timeout: float = 1.5) -> bool:
    """True when the device's agent does not answer a GET of sysUpTime.0 within `timeout`."""
    return not snmp_answers(device.address, port, device.snmp_community, timeout=timeout)


def reachable(device, ssh_port: int, snmp_port: int) -> bool:
    return not ssh_refused(device, ssh_port) and snmp_answers(device.address, snmp_port, device.snmp_community, 2.0)


def wait_until(check, what: str, deadline_s: float = DEADLINE_S) -> None:
    """Poll `check` until it is true; fail after `deadline_s` (a generous bound, not a timing assertion)."""
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {deadline_s} s")
        time.sleep(0.2)
