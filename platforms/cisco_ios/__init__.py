"""Everything Cisco IOS: platform.py (grammar, names, rendering, secrets, SNMP hints), driver.py (NAPALM)."""

from platforms.cisco_ios.platform import CiscoIos

__all__ = ["CiscoIos"]
