from collectors.drivers.base import Driver, register


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
