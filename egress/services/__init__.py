"""The unified internet egress: the policy (a file), per-device findings for the compliance engine, verification of
the inventory's stored configs, rendering per vendor, and egress bandwidth.

The compliance engine's one entry point is `device_findings(platform_slug, config_text, role, context)`, with
`DeviceContext.from_device(device)` for what the inventory knows (or None offline); it returns `EgressFinding`s.
The rule ids are egress.services.checks.RULES.
"""

from egress.services.checks import RULES, DeviceContext, EgressFinding, InterfaceContext, device_findings
from egress.services.policy import EgressPolicy, default_policy, load_policy

__all__ = ["RULES", "DeviceContext", "EgressFinding", "EgressPolicy", "InterfaceContext", "default_policy",
           "device_findings", "load_policy"]
