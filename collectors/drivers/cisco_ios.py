from collectors.drivers.base import Driver, register
from collectors.drivers.secrets import IOS_SECRET_RULES


@register
class CiscoIos(Driver):
    platform = "cisco_ios"
    netmiko_type = "cisco_ios"
    config_command = "show running-config"
    version_command = "show version"
    arp_command = "show ip arp"
    mac_command = "show mac address-table"
    lldp_command = "show lldp neighbors"
    volatile_patterns = (r"^Building configuration", r"^Current configuration :", r"^! Last configuration change at",
                         r"^! NVRAM config last updated at", r"^ntp clock-period ")
    secret_rules = IOS_SECRET_RULES
