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

from collectors.models import ConfigVersion
from threat.choices import ContainmentKind, EventKind, ProposalStatus
from threat.models import Alert, AlertEvent, ContainmentProposal
from threat.services import ThreatError

# "GigabitEthernet0/0/5", "Ten-GigabitEthernet1/0/49", "Gi0/2", "Eth-Trunk1", "Port-channel1.100"
INTERFACE_NAME = re.compile(r"^[A-Za-z][A-Za-z\-]{0,40} ?[0-9]{1,4}(?:/[0-9]{1,4}){0,3}(?:\.[0-9]{1,5})?$")
ACL_NUMBERS = range(3900, 4000)  # advanced ACLs on VRP and Comware
BLOCK_END = {"huawei_vrp": "#", "hp_comware": "#", "cisco_ios": "!", "ruijie_os": "!"}
TRAILER = {"huawei_vrp": "return", "hp_comware": "return", "cisco_ios": "end", "ruijie_os": "end"}


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


def free_acl_number(config: str) -> int:
    used = {int(n) for n in re.findall(r"^\s*acl (?:number |advanced )?(\d+)", config, re.MULTILINE)}
    for number in ACL_NUMBERS:
        if number not in used:
            return number
    raise ThreatError("THREAT_NO_FREE_ACL", "ACLs 3900-3999 are all used on this switch; free one first.")


def render(platform: str, kind: str, port: str, host: str, acl: str | int) -> tuple[list[str], list[str]]:
    """(global lines, interface sub-lines) for one platform; the interface line itself is added by the caller."""
    is_v6 = ipaddress.ip_address(host).version == 6
    if kind == ContainmentKind.SHUTDOWN_PORT:
        return [], ["shutdown"]
    if kind != ContainmentKind.ACL_BLOCK_HOST:
        raise ThreatError("THREAT_CONTAINMENT_UNKNOWN", f"{kind!r} is not a containment kind; use "
                                                        f"{' or '.join(ContainmentKind.values)}.")
    if platform == "huawei_vrp":
        if is_v6:
            return ([f"acl ipv6 number {acl}", f" rule 5 deny ipv6 source {host}/128", " rule 10 permit ipv6"],
                    [f"traffic-filter inbound ipv6 acl {acl}"])
        return ([f"acl number {acl}", f" rule 5 deny ip source {host} 0", " rule 10 permit ip"],
                [f"traffic-filter inbound acl {acl}"])
    if platform == "hp_comware":
        if is_v6:
            return ([f"acl ipv6 advanced {acl}", f" rule 5 deny ipv6 source {host} 128", " rule 10 permit ipv6"],
                    [f"packet-filter ipv6 {acl} inbound"])
        return ([f"acl advanced {acl}", f" rule 5 deny ip source {host} 0", " rule 10 permit ip"],
                [f"packet-filter {acl} inbound"])
    if platform in ("cisco_ios", "ruijie_os"):
        if is_v6:
            return ([f"ipv6 access-list {acl}", f" deny ipv6 host {host} any", " permit ipv6 any any"],
                    [f"ipv6 traffic-filter {acl} in"])
        return ([f"ip access-list extended {acl}", f" deny ip host {host} any", " permit ip any any"],
                [f"ip access-group {acl} in"])
    raise ThreatError("THREAT_PLATFORM_UNKNOWN", f"no containment rendering for platform {platform!r}.")


def apply_to_config(config: str, platform: str, port: str, global_lines: list[str], sub_lines: list[str]) -> str:
    """The config as it would read after the change: ACL blocks before the trailer, sub-lines in the block."""
    lines = config.rstrip("\n").split("\n") if config.strip() else []
    header = f"interface {port}"
    end_mark = BLOCK_END.get(platform, "!")
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == header and not line.startswith(" "))
    except StopIteration:
        start = None
    if start is None:
        block = [header] + [f" {s}" for s in sub_lines] + [end_mark]
        insert_at = _trailer_index(lines, platform)
        lines[insert_at:insert_at] = block
    else:
        end = start + 1
        while end < len(lines) and lines[end].startswith(" "):
            end += 1
        existing = {line.strip() for line in lines[start + 1:end]}
        lines[end:end] = [f" {s}" for s in sub_lines if s not in existing]
    if global_lines:
        insert_at = _trailer_index(lines, platform)
        lines[insert_at:insert_at] = global_lines + [end_mark]
    return "\n".join(lines) + "\n"


def _trailer_index(lines: list[str], platform: str) -> int:
    trailer = TRAILER.get(platform)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == trailer:
            return index
    return len(lines)


def propose(alert: Alert, kind: str, user=None) -> ContainmentProposal:
    """Render and store a containment proposal for the alert's located host."""
    if alert.switch_id is None or not alert.switch_port:
        raise ThreatError("THREAT_NOT_LOCATED", "this alert's host has no known switch port yet; locate it first "
                                                "(run `manage.py backup`, then locate again).")
    device = alert.switch
    port = valid_interface(device, alert.switch_port)
    host = valid_host(alert.src)
    latest = ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").first()
    current = latest.text if latest else ""
    acl = free_acl_number(current)
    if device.platform in ("cisco_ios", "ruijie_os"):
        acl = f"ONENET-CONTAIN-{alert.pk}"
    global_lines, sub_lines = render(device.platform, kind, port, host, acl)
    lines = global_lines + [f"interface {port}"] + [f" {s}" for s in sub_lines]
    diff = ""
    if latest is not None:
        candidate = apply_to_config(current, device.platform, port, global_lines, sub_lines)
        diff = "\n".join(difflib.unified_diff(current.splitlines(), candidate.splitlines(),
                                              fromfile=f"{device.name} (backup {latest.fetched_at:%Y-%m-%d %H:%M})",
                                              tofile=f"{device.name} (proposed)", lineterm=""))
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
