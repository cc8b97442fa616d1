"""`egress render`: the egress policy as one vendor's config lines.

For each approved egress device of that platform in the inventory: OneNet's block ACL (an ACL number free on the
device, or OneNet's ACL name) bound in both directions to each of its internet-facing interfaces (the ends of its
internet-tier links). With no such device, the block for a placeholder interface, to show the lines.
"""

from __future__ import annotations

import platforms
from collectors.models import ConfigVersion
from egress.services.checks import INTERNET, DeviceContext
from egress.services.policy import EgressPolicy, default_policy
from inventory.models import Device


def render_platform(slug: str, policy: EgressPolicy | None = None, devices=None) -> dict:
    """PLATFORM_UNKNOWN for an unknown slug. `devices`: the inventory to look in (a user's scope), default all."""
    platform = platforms.get(slug)
    policy = policy or default_policy()
    devices = (devices if devices is not None else Device.objects.all()).filter(platform=slug).order_by("name")
    egress = list(devices.filter(policy.egress_filter()).only("pk", "name", "role", "platform"))
    contexts = DeviceContext.for_devices(egress, policy)
    ports = [(p.protocol, p.port) for p in policy.blocked_ports]
    blocks = []
    for device in egress:
        interfaces = list(dict.fromkeys(end.name for end in contexts[device.pk].interfaces
                                        if end.tier == INTERNET and not end.peer_extranet))
        if not interfaces:
            continue
        version = ConfigVersion.objects.filter(device=device).order_by("-fetched_at", "-pk").only("text").first()
        acl = platform.acl_for(platform.parse(version.text if version else ""), platform.egress.acl_label)
        blocks.append({"device": device.name, "interfaces": interfaces, "acl": acl, "placeholder": False,
                       "lines": platform.render_egress_block(interfaces, acl, ports, policy.blocked_prefixes)})
    if not blocks:
        interface = platform.egress.placeholder_interface
        acl = platform.acl_for(platform.parse(""), platform.egress.acl_label)
        blocks.append({"device": None, "interfaces": [interface], "acl": acl, "placeholder": True,
                       "lines": platform.render_egress_block([interface], acl, ports, policy.blocked_prefixes)})
    return {"platform": slug, "name": platform.name, "policy": policy.path, "blocks": blocks,
            "lines": [line for block in blocks for line in block["lines"]]}
