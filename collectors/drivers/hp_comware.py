from collectors.drivers.base import Driver, register
from collectors.drivers.secrets import VRP_COMWARE_SECRET_RULES


@register
class HpComware(Driver):
    platform = "hp_comware"
    netmiko_type = "hp_comware"
    config_command = "display current-configuration"
    version_command = "display version"
    arp_command = "display arp"
    mac_command = "display mac-address"
    lldp_command = "display lldp neighbor-information list"
    volatile_patterns = ()
    secret_rules = VRP_COMWARE_SECRET_RULES
    prompt_pattern = r"[>\]]\s*$"
    config_prompt_pattern = r"\]\s*$"
    exit_config_command = "return"
    logout_command = "quit"
