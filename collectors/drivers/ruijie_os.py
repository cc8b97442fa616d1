from collectors.drivers.base import register
from collectors.drivers.cisco_ios import CiscoIos


@register
class RuijieOs(CiscoIos):
    """RGOS speaks an IOS-like CLI; netmiko has its own driver for the prompts and paging."""

    platform = "ruijie_os"
    netmiko_type = "ruijie_os"
    arp_command = "show arp"
