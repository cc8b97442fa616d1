"""Everything H3C/HPE Comware: platform.py (grammar, names, rendering, secrets, SNMP hints), driver.py (NAPALM)."""

from platforms.hp_comware.platform import HpComware

__all__ = ["HpComware"]
