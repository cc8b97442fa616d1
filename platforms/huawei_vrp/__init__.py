"""Everything Huawei VRP: platform.py (grammar, names, rendering, secrets, SNMP hints), driver.py (NAPALM)."""

from platforms.huawei_vrp.platform import HuaweiVrp

__all__ = ["HuaweiVrp"]
