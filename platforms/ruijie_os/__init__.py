"""Everything Ruijie RGOS: platform.py (grammar, names, rendering, secrets, SNMP hints), driver.py (NAPALM)."""

from platforms.ruijie_os.platform import RuijieOs

__all__ = ["RuijieOs"]
