"""Each lab device's initial running config, generated from the topology by platform and role.

Every device gets the extranet baseline (hostname, local users with hashed passwords, SSH only on the VTYs
with a 10-minute idle timeout and the management ACL (the NMS network and the lab's console on the loopback), a
login banner, an SNMP read community limited by that ACL,
remote syslog, NTP) and the MLPS 2.0 level-3 account items (login-failure lockout, password complexity),
its interfaces with descriptions and the IPs of its links, and one legitimate default route: towards its
uplink neighbour on the link to its parent (the city cores point at the unified egress; the egress points at
the ISPs).  The egress carries the internet NAT and the SMB/NetBIOS block (TCP 135/139/445, UDP 137/138) in
both directions on its internet-facing interfaces; each county aggregation router carries the same block on
its uplink, except the one planted with `no-smb-block`.

The planted faults in `device.faults` change the baseline; `expected_faults()` says which compliance rule
(DESIGN's ids) each should trip, for the lab's answer file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from lab.topology import SSH_USERNAME, Device, Link, Topology

SYSLOG_SERVER = "10.0.250.10"
NTP_SERVER = "10.0.250.11"
NMS_NETWORK = ("10.0.250.0", "0.0.0.255")
# The lab's console (its poller, backups, tests) reaches the devices over the loopback: Linux gives a connection to
# 127.x.y.z the source address 127.0.0.1, so the management ACLs must admit it as they admit the NMS network.
CONSOLE_NETWORK = ("127.0.0.0", "0.255.255.255")
# The management ACL of the baseline, bound to the VTY lines (SSH) and to the SNMP community.
NMS_ACL = {"huawei_vrp": "2000", "hp_comware": "2000", "cisco_ios": "99", "ruijie_os": "99"}
BANNER = "Authorized access only. This extranet device is monitored; activity is logged."
SMB_PORTS = (("tcp", 135), ("tcp", 139), ("tcp", 445), ("udp", 137), ("udp", 138))
TWO_STAGE_ROLES = ("core", "egress", "aggregation")

# Which compliance rule ids (DESIGN, "Baseline compliance rule ids") each planted fault should trip.
FAULT_RULES = {
    "telnet-vty": ["mgmt.ssh-only"],
    "snmp-default-community": ["snmp.no-default-community", "snmp.no-unrestricted-write"],
    "no-ntp": ["ntp.configured"],
    "no-syslog": ["logging.remote-syslog"],
    "cleartext-password": ["aaa.no-cleartext-passwords"],
    "no-idle-timeout": ["mgmt.idle-timeout"],
    "rogue-exit": ["egress.no-rogue-default-route", "egress.no-rogue-nat"],
    "no-smb-block": ["egress.smb-blocked"],
}


def expected_faults(topology: Topology) -> list[dict]:
    """The config faults planted in the lab and the rule each should trip (one entry per rule)."""
    out = []
    for device in topology.devices:
        for fault in device.faults:
            for rule in FAULT_RULES.get(fault, ()):
                out.append({"device": device.name, "platform": device.platform, "role": device.role,
                            "fault": fault, "rule": rule})
    return out


def is_two_stage(device: Device) -> bool:
    """VRP8 devices (core, egress, aggregation on V800) use the two-stage candidate/commit model."""
    return (device.platform == "huawei_vrp" and device.role in TWO_STAGE_ROLES
            and device.os_version.startswith("V800"))


def is_switch(device: Device) -> bool:
    return bool(re.search(r"-sw\d+$", device.name))


@dataclass
class Neighbour:
    local_interface: str
    device: str
    interface: str
    tier: str
    local_ip: str | None
    remote_ip: str | None


@dataclass
class LabIndex:
    """Look-ups over a topology that the configs and the CLIs need."""

    topology: Topology
    devices: dict = field(default_factory=dict)
    neighbours: dict = field(default_factory=dict)  # device name -> [Neighbour]
    uplinks: dict = field(default_factory=dict)  # device name -> Neighbour towards its parent
    hosts_by_gateway: dict = field(default_factory=dict)
    hosts_by_switch: dict = field(default_factory=dict)

    @classmethod
    def build(cls, topology: Topology) -> LabIndex:
        index = cls(topology)
        index.devices = {d.name: d for d in topology.devices}
        for link in topology.links:
            a, b = index.devices[link.a_device], index.devices[link.b_device]
            ia, ib = a.interface(link.a_interface), b.interface(link.b_interface)
            index.neighbours.setdefault(a.name, []).append(
                Neighbour(ia.name, b.name, ib.name, link.tier, _ip(ia.ip), _ip(ib.ip)))
            to_parent = Neighbour(ib.name, a.name, ia.name, link.tier, _ip(ib.ip), _ip(ia.ip))
            index.neighbours.setdefault(b.name, []).append(to_parent)
            index.uplinks.setdefault(b.name, to_parent)
        for host in topology.hosts:
            index.hosts_by_gateway.setdefault(host.gateway, []).append(host)
            index.hosts_by_switch.setdefault(host.switch, []).append(host)
        return index

    def default_next_hops(self, device: Device) -> list[Neighbour]:
        """Where the device's legitimate default route points: the egress to its ISPs, everything else to
        its uplink neighbour on the link to its parent (the top of the tree has none)."""
        if device.role == "egress":
            return [n for n in self.neighbours.get(device.name, []) if n.tier == "internet"]
        uplink = self.uplinks.get(device.name)
        return [uplink] if uplink else []

    def link_for(self, device: str, interface: str) -> Link | None:
        for link in self.topology.links:
            if (link.a_device, link.a_interface) == (device, interface) or \
                    (link.b_device, link.b_interface) == (device, interface):
                return link
        return None


def _ip(cidr: str | None) -> str | None:
    return cidr.split("/")[0] if cidr else None


def _ip_mask(cidr: str) -> tuple[str, str]:
    iface = ipaddress.IPv4Interface(cidr)
    return str(iface.ip), str(iface.netmask)


def _digest(*parts: str, length: int = 24) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./"
    raw = hashlib.sha256("|".join(parts).encode()).digest() * 2
    return "".join(alphabet[b % len(alphabet)] for b in raw[:length])


def generate_config(device: Device, index: LabIndex) -> str:
    """The device's initial running config as indented text (children one space in)."""
    builder = {"huawei_vrp": _huawei, "hp_comware": _comware, "cisco_ios": _cisco, "ruijie_os": _ruijie}
    try:
        render = builder[device.platform]
    except KeyError:
        raise ValueError(f"unknown platform {device.platform!r} for {device.name}") from None
    return "\n".join(render(device, index)) + "\n"


def _smb_applied(device: Device, index: LabIndex) -> list[str]:
    """Interfaces that carry the SMB/NetBIOS block on this device."""
    if device.role == "egress":
        return [n.local_interface for n in index.neighbours.get(device.name, []) if n.tier == "internet"]
    if device.role == "aggregation" and "no-smb-block" not in device.faults:
        uplink = index.uplinks.get(device.name)
        return [uplink.local_interface] if uplink else []
    return []


# -- Huawei VRP --------------------------------------------------------------------------------
def config_community(device: Device) -> str:
    """The SNMP read community as the device's baseline config writes it (VRP and Comware write it ciphered)."""
    if "snmp-default-community" in device.faults:
        return "public"
    return {"huawei_vrp": f"%^%#{_digest(device.name, 'snmp')}%^%#",
            "hp_comware": f"$c$3${_digest(device.name, 'snmp')}==",
            "cisco_ios": _digest(device.name, "snmp", length=12),
            "ruijie_os": _digest(device.name, "snmp", length=12)}[device.platform]


def _huawei(device: Device, index: LabIndex) -> list[str]:
    faults = set(device.faults)
    name = device.name
    smb = _smb_applied(device, index)
    nat = [n.local_interface for n in index.neighbours.get(name, []) if n.tier == "internet"]
    lines = [f"sysname {name}", "clock timezone BJ add 08:00:00"]
    if "no-syslog" not in faults:
        lines += ["info-center source default channel 2 log level informational",
                  f"info-center loghost {SYSLOG_SERVER}"]
    if "no-ntp" not in faults:
        lines += [f"ntp-service unicast-server {NTP_SERVER}"]
    lines += [f'header login information "{BANNER}"']
    lines += ["snmp-agent", f"snmp-agent local-engineid 800007DB03{_digest(name, length=12).encode().hex()[:12]}"]
    if "snmp-default-community" in faults:
        lines += ["snmp-agent community read public", "snmp-agent community write private"]
    else:
        lines += [f"snmp-agent community read cipher {config_community(device)} acl 2000"]
    lines += ["snmp-agent sys-info version v2c v3"]
    if "telnet-vty" in faults:
        lines += ["telnet server enable"]
    lines += ["stelnet server enable", f"ssh user {SSH_USERNAME} authentication-type password",
              f"ssh user {SSH_USERNAME} service-type stelnet"]
    lines += ["acl number 2000", " description nms", f" rule 5 permit source {NMS_NETWORK[0]} {NMS_NETWORK[1]}",
              f" rule 10 permit source {CONSOLE_NETWORK[0]} {CONSOLE_NETWORK[1]}"]
    if smb:
        lines += ["acl number 3100", " description block-smb-netbios"]
        lines += [f" rule {5 * (n + 1)} deny {proto} destination-port eq {port}"
                  for n, (proto, port) in enumerate(SMB_PORTS)]
        lines += [f" rule {5 * (len(SMB_PORTS) + 1)} permit ip"]
    if nat or "rogue-exit" in faults:
        lines += ["acl number 3001", " description nat-extranet", " rule 5 permit ip source 10.0.0.0 0.255.255.255"]
    lines += ["aaa", " authentication-scheme default", " authorization-scheme default", " domain default",
              " local-aaa-user wrong-password retry-interval 5 retry-time 5 block-time 10",
              " local-aaa-user password policy administrator"]
    lines += [f" local-user {SSH_USERNAME} password irreversible-cipher $1c${_digest(name, 'u')}$",
              f" local-user {SSH_USERNAME} privilege level 15", f" local-user {SSH_USERNAME} service-type ssh"]
    if "cleartext-password" in faults:
        lines += [" local-user admin password simple Admin@2017"]
    else:
        lines += [f" local-user admin password irreversible-cipher $1c${_digest(name, 'admin')}$"]
    lines += [" local-user admin privilege level 15", " local-user admin service-type terminal ssh"]
    for iface in device.interfaces:
        lines.append(f"interface {iface.name}")
        if iface.description:
            lines.append(f" description {iface.description}")
        if iface.ip:
            lines.append(" ip address {} {}".format(*_ip_mask(iface.ip)))
        if iface.name in smb:
            lines += [" traffic-filter inbound acl 3100", " traffic-filter outbound acl 3100"]
        if iface.name in nat:
            lines += [" nat outbound 3001"]
    if "rogue-exit" in faults:
        lines += ["interface Cellular0/0/0", " description 4G-backup", " link-protocol ppp",
                  " ip address ppp-negotiate", " dialer enable-circular", " dialer-group 1",
                  " dialer number *99#", " nat outbound 3001"]
    lines.append("interface NULL0")
    for hop in index.default_next_hops(device):
        lines.append(f"ip route-static 0.0.0.0 0.0.0.0 {hop.remote_ip} description default-{hop.device}")
    if device.role == "egress":
        for n in index.neighbours.get(name, []):
            if index.devices[n.device].name.startswith("city-core-"):
                lines.append(f"ip route-static 10.0.0.0 255.0.0.0 {n.remote_ip} description extranet-{n.device}")
    if "rogue-exit" in faults:
        lines.append("ip route-static 0.0.0.0 0.0.0.0 Cellular0/0/0 preference 10")
    lines += ["lldp enable"]
    idle = "idle-timeout 0 0" if "no-idle-timeout" in faults else "idle-timeout 10 0"
    lines += ["user-interface con 0", " authentication-mode aaa", " idle-timeout 10 0"]
    lines += ["user-interface vty 0 4", " acl 2000 inbound", " authentication-mode aaa", " user privilege level 15",
              " protocol inbound all" if "telnet-vty" in faults else " protocol inbound ssh", f" {idle}"]
    return lines


# -- H3C Comware -------------------------------------------------------------------------------
def _comware(device: Device, index: LabIndex) -> list[str]:
    faults = set(device.faults)
    name = device.name
    smb = _smb_applied(device, index)
    lines = [f"sysname {name}", "clock timezone Beijing add 08:00:00", "lldp global enable"]
    if "telnet-vty" in faults:
        lines += ["telnet server enable"]
    lines += ["password-recovery enable", "password-control enable", "password-control length 10",
              "password-control composition type-number 3", "password-control login-attempt 5 exceed lock-time 10"]
    if "no-syslog" not in faults:
        lines += ["info-center loghost source LoopBack0", f"info-center loghost {SYSLOG_SERVER}"]
    if "no-ntp" not in faults:
        lines += ["ntp-service enable", f"ntp-service unicast-server {NTP_SERVER}"]
    for iface in device.interfaces:
        lines.append(f"interface {iface.name}")
        if iface.description:
            lines.append(f" description {iface.description}")
        if iface.ip:
            lines.append(" ip address {} {}".format(*_ip_mask(iface.ip)))
        if iface.name in smb:
            lines += [" packet-filter 3100 inbound", " packet-filter 3100 outbound"]
    if "rogue-exit" in faults:
        lines += ["interface Cellular0/0", " description 4G-backup", " ip address ppp-negotiate",
                  " dialer circular enable", " nat outbound 3001"]
    for hop in index.default_next_hops(device):
        lines.append(f"ip route-static 0.0.0.0 0 {hop.remote_ip} description default-{hop.device}")
    if "rogue-exit" in faults:
        lines.append("ip route-static 0.0.0.0 0 Cellular0/0 preference 10")
    lines += ["acl basic 2000", " description nms", f" rule 5 permit source {NMS_NETWORK[0]} {NMS_NETWORK[1]}",
              f" rule 10 permit source {CONSOLE_NETWORK[0]} {CONSOLE_NETWORK[1]}"]
    if "rogue-exit" in faults:
        lines += ["acl advanced 3001", " rule 5 permit ip source 10.0.0.0 0.255.255.255"]
    if smb:
        lines += ["acl advanced 3100", " description block-smb-netbios"]
        lines += [f" rule {5 * (n + 1)} deny {proto} destination-port eq {port}"
                  for n, (proto, port) in enumerate(SMB_PORTS)]
        lines += [f" rule {5 * (len(SMB_PORTS) + 1)} permit ip"]
    idle = "idle-timeout 0 0" if "no-idle-timeout" in faults else "idle-timeout 10 0"
    lines += ["line class vty", " user-role network-operator"]
    lines += ["line vty 0 63", " authentication-mode scheme", " user-role network-admin",
              " protocol inbound telnet" if "telnet-vty" in faults else " protocol inbound ssh", f" {idle}"]
    lines += ["ssh server enable", "ssh server acl 2000", "snmp-agent",
              f"snmp-agent local-engineid 800063A280{_digest(name)[:12]}"]
    if "snmp-default-community" in faults:
        lines += ["snmp-agent community read simple public", "snmp-agent community write simple private"]
    else:
        lines += [f"snmp-agent community read cipher {config_community(device)} acl 2000"]
    lines += ["snmp-agent sys-info version v2c v3"]
    lines += ["domain system", "domain default enable system", "role name level-15"]
    lines += [f"local-user {SSH_USERNAME} class manage", f" password hash $h$6${_digest(name, 'u', length=40)}==",
              " service-type ssh", " authorization-attribute user-role network-admin"]
    lines += ["local-user admin class manage"]
    if "cleartext-password" in faults:
        lines += [" password simple Admin@2017"]
    else:
        lines += [f" password hash $h$6${_digest(name, 'admin', length=40)}=="]
    lines += [" service-type ssh terminal", " authorization-attribute user-role network-admin"]
    lines += [f"header login %{BANNER}%"]
    return lines


# -- Cisco IOS and Ruijie RGOS --------------------------------------------------------------------
def _cisco_common(device: Device, index: LabIndex, ruijie: bool) -> list[str]:
    faults = set(device.faults)
    name = device.name
    smb = _smb_applied(device, index)
    lines = []
    if ruijie:
        lines += [f"hostname {name}", "service password-encryption"]
        lines += [f"username {SSH_USERNAME} privilege 15 password 7 {_digest(name, 'u', length=20).encode().hex()}"]
        if "cleartext-password" in faults:
            lines += ["username admin privilege 15 password 0 Admin@2017"]
        lines += ["enable service ssh-server", "ip ssh version 2", "lldp enable", "password policy strong",
                  "aaa local authentication attempts 5", "aaa local authentication lockout-time 10"]
    else:
        lines += ["version 15.2", "service timestamps debug datetime msec", "service timestamps log datetime msec",
                  "service password-encryption", f"hostname {name}", "boot-start-marker", "boot-end-marker",
                  f"enable secret 9 $9${_digest(name, 'enable', length=14)}${_digest(name, 'e2', length=43)}",
                  "aaa new-model", "aaa authentication login default local", "aaa authorization exec default local",
                  "clock timezone CST 8 0", "no ip http server", "no ip http secure-server",
                  "ip domain name extranet.gov.local",
                  f"username {SSH_USERNAME} privilege 15 secret 9 $9${_digest(name, 'u', length=14)}$"
                  f"{_digest(name, 'u2', length=43)}"]
        if "cleartext-password" in faults:
            lines += ["username admin privilege 15 password 0 Admin@2017"]
        else:
            lines += [f"username admin privilege 15 secret 9 $9${_digest(name, 'a', length=14)}$"
                      f"{_digest(name, 'a2', length=43)}"]
        lines += ["ip ssh version 2", "lldp run", "cdp run", "security passwords min-length 10",
                  "login block-for 300 attempts 5 within 60"]
    for iface in device.interfaces:
        lines.append(f"interface {iface.name}")
        if iface.description:
            lines.append(f" description {iface.description}")
        if iface.ip:
            lines.append(" ip address {} {}".format(*_ip_mask(iface.ip)))
        elif iface.kind == "ethernet":
            lines.append(" no ip address" if not ruijie else " switchport access vlan 1")
        if iface.name in smb:
            lines += [" ip access-group SMB-BLOCK in", " ip access-group SMB-BLOCK out"]
        if "rogue-exit" in faults and index.uplinks.get(name) and iface.name != index.uplinks[name].local_interface \
                and iface.ip:
            lines.append(" ip nat inside")
    if "rogue-exit" in faults:
        lines += ["interface Cellular0/1/0", " description 4G-backup", " ip address negotiated", " ip nat outside",
                  " dialer in-band", " dialer-group 1"]
        lines += ["ip nat inside source list 10 interface Cellular0/1/0 overload"]
    for hop in index.default_next_hops(device):
        lines.append(f"ip route 0.0.0.0 0.0.0.0 {hop.remote_ip} name default-{hop.device}")
    if "rogue-exit" in faults:
        lines.append("ip route 0.0.0.0 0.0.0.0 Cellular0/1/0 10")
    if smb:
        lines.append("ip access-list extended SMB-BLOCK")
        lines += [f" deny   {proto} any any eq {port}" for proto, port in SMB_PORTS]
        lines += [" permit ip any any"]
    lines += [f"access-list 99 permit {NMS_NETWORK[0]} {NMS_NETWORK[1]}",
              f"access-list 99 permit {CONSOLE_NETWORK[0]} {CONSOLE_NETWORK[1]}"]
    if "rogue-exit" in faults:
        lines += ["access-list 10 permit 10.0.0.0 0.255.255.255"]
    if "no-syslog" not in faults:
        lines += ["logging trap informational", f"logging host {SYSLOG_SERVER}"]
    if "snmp-default-community" in faults:
        lines += ["snmp-server community public RO", "snmp-server community private RW"]
    else:
        lines += [f"snmp-server community {config_community(device)} RO 99"]
    if "no-ntp" not in faults:
        lines += [f"ntp server {NTP_SERVER}"]
    lines += [f"banner login ^C{BANNER}^C"]
    exec_timeout = "exec-timeout 0 0" if "no-idle-timeout" in faults else "exec-timeout 10 0"
    lines += ["line con 0", " exec-timeout 10 0", " login local"]
    lines += ["line vty 0 4", " access-class 99 in", f" {exec_timeout}", " login local",
              " transport input telnet ssh" if "telnet-vty" in faults else " transport input ssh"]
    return lines


def _cisco(device: Device, index: LabIndex) -> list[str]:
    return _cisco_common(device, index, ruijie=False)


def _ruijie(device: Device, index: LabIndex) -> list[str]:
    return _cisco_common(device, index, ruijie=True)
