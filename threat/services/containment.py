"""Containment proposals: shut the infected host's access port, or block the host with an ACL on its switch.

A proposal is config lines rendered per platform plus a unified diff against the switch's latest backed-up
config; it is stored for review and nothing pushes it (the change pipeline will take approved ones).
Interface names come from devices and addresses from captures: both are validated before they reach a
config line (a strict pattern, and the switch's own interface list when the inventory has one).
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from django.db import transaction

import platforms
from collectors.models import ConfigVersion
from threat.choices import ContainmentKind, EventKind, ProposalStatus
from threat.models import Alert, AlertEvent, ContainmentProposal
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


def propose(alert: Alert, kind: str, user=None) -> ContainmentProposal:
    """Render and store a containment proposal for the alert's located host."""
    if alert.switch_id is None or not alert.switch_port:
        raise ThreatError("THREAT_NOT_LOCATED", "this alert's host has no known switch port yet; locate it first "
                                                "(run `manage.py backup`, then locate again).")
    device = alert.switch
    port = valid_interface(device, alert.switch_port)
    host = valid_host(alert.src)
    platform = platforms.get(device.platform)
    latest = ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").first()
    tree = platform.parse(latest.text if latest else "")
    lines = render(platform, kind, tree, port, host, f"ONENET-CONTAIN-{alert.pk}")
    diff = ""
    if latest is not None:
        # What the switch's config would read after the change, as its own backup shows it.
        before = tree.render().splitlines()
        after = tree.copy().apply_lines(lines).render().splitlines()
        diff = "\n".join(difflib.unified_diff(before, after, lineterm="",
                                              fromfile=f"{device.name} (backup {latest.fetched_at:%Y-%m-%d %H:%M})",
                                              tofile=f"{device.name} (proposed)"))
    with transaction.atomic():
        proposal = ContainmentProposal.objects.create(alert=alert, device=device, port=port, kind=kind, lines=lines,
                                                      diff=diff, status=ProposalStatus.PROPOSED, created_by=user)
        AlertEvent.objects.create(alert=alert, kind=EventKind.CONTAINMENT, actor=user,
                                  text=f"{kind} {device.name} {port}")
    return proposal


def decide(proposal: ContainmentProposal, approve: bool, user=None) -> ContainmentProposal:
    if proposal.status != ProposalStatus.PROPOSED:
        raise ThreatError("THREAT_PROPOSAL_DECIDED", f"this proposal is already {proposal.status}.")
    proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
    proposal.save(update_fields=["status"])
    AlertEvent.objects.create(alert=proposal.alert, kind=EventKind.CONTAINMENT, actor=user,
                              text=f"{proposal.status} {proposal.kind} {proposal.device.name} {proposal.port}")
    return proposal
