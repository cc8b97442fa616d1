"""Containment lines: shut the infected host's access port, or block the host with an ACL on its switch.

The lines are rendered per platform here; the change pipeline (changes.services.producers.contain) makes them a
change request with a dry run, approval, push and audit like any other, and the alert links to it.
Interface names come from devices and addresses from captures: both are validated before they reach a
config line (a strict pattern, and the switch's own interface list when the inventory has one).
"""

from __future__ import annotations

import ipaddress
import re

from threat.choices import ContainmentKind
from threat.services import ThreatError

# "GigabitEthernet0/0/5", "Ten-GigabitEthernet1/0/49", "Gi0/2", "Eth-Trunk1", "Port-channel1.100"
INTERFACE_NAME = re.compile(r"^[A-Za-z][A-Za-z\-]{0,40} ?[0-9]{1,4}(?:/[0-9]{1,4}){0,3}(?:\.[0-9]{1,5})?$")


def valid_interface(device, name: str) -> str:
    if not isinstance(name, str) or not INTERFACE_NAME.fullmatch(name):
        raise ThreatError("THREAT_BAD_INTERFACE", f"{name!r} is not an interface name this console will put in a "
                                                  "config; check the switch's MAC table.")
    interfaces = device.interfaces.all()
    if interfaces.exists() and not interfaces.filter(name=name).exists():
        raise ThreatError("THREAT_BAD_INTERFACE", f"{device.name} has no interface {name!r} in the inventory; "
                                                  "run discovery or check the port.")
    return name


def valid_host(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise ThreatError("THREAT_BAD_ADDRESS", f"{address!r} is not an IP address.") from None


def render(platform, kind: str, tree, port: str, host: str, label: str) -> list[str]:
    """The config-file lines of a containment on the switch's platform (an ACL takes a free number or a name)."""
    if kind == ContainmentKind.SHUTDOWN_PORT:
        return platform.render_port_shutdown(port)
    if kind == ContainmentKind.ACL_BLOCK_HOST:
        return platform.render_host_block(port, host, platform.acl_for(tree, label))
    raise ThreatError("THREAT_CONTAINMENT_UNKNOWN", f"{kind!r} is not a containment kind; use "
                                                    f"{' or '.join(ContainmentKind.values)}.")
