import re

from collectors.drivers.base import Driver, register
from collectors.drivers.secrets import VRP_COMWARE_SECRET_RULES


@register
class HuaweiVrp(Driver):
    platform = "huawei_vrp"
    netmiko_type = "huawei"
    config_command = "display current-configuration"
    version_command = "display version"
    arp_command = "display arp"
    mac_command = "display mac-address"
    lldp_command = "display lldp neighbor brief"
    volatile_patterns = (r"^!Last configuration was (updated|saved) at", r"^!Software Version", r"^!Time:")
    secret_rules = VRP_COMWARE_SECRET_RULES
    prompt_pattern = r"[>\]]\s*$"
    config_prompt_pattern = r"\]\s*$"
    exit_config_command = "return"
    logout_command = "quit"
    # `display arp` prints the same table as `display arp all`, which ntc-templates has a template for.
    templates = {"display arp": ("huawei_vrp", "display arp all")}

    def parse_lldp(self, output: str) -> list[dict]:
        """`display lldp neighbor brief` (no ntc-templates template): Local Intf, Neighbor Dev, Neighbor Intf,
        Exptime(s). The neighbour's port is as it announces it, which may hold a space ("GigabitEthernet 0/1"
        from RGOS)."""
        rows = []
        for line in output.splitlines():
            found = re.match(r"^\s*(\S+)\s+(\S.*?)\s+([A-Za-z][\w.-]*\s\d\S*|\S+)\s+(\d+)\s*$", line)
            if found and not line.lstrip().startswith("Local Intf"):
                rows.append({"local_port": found[1], "neighbor_name": found[2], "neighbor_port": found[3]})
        return rows

    def leave_config_mode(self, session):
        """`return` to user view; an unfinished VRP8 candidate is discarded (N), never committed on the way
        out."""
        session.write_channel(self.exit_config_command + session.RETURN)
        answer = session.read_until_pattern(pattern=r">\s*$|\[Y\(yes\)/N\(no\)/C\(cancel\)\]:", read_timeout=5)
        if "[Y(yes)" in answer:
            session.write_channel("N" + session.RETURN)
            session.read_until_pattern(pattern=r">\s*$", read_timeout=5)
