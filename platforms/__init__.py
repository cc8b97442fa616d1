"""One package per platform slug (huawei_vrp, hp_comware, cisco_ios, ruijie_os), behind one registry.

`platforms.get(slug)` gives the platform (grammar, interface names, rendering, secrets, SNMP hints);
`driver_for(slug)` its NAPALM driver. An unknown slug raises PLATFORM_UNKNOWN, never a fallback.
"""

# Importing the packages registers them (a slug registered twice is an error).
from platforms import cisco_ios, hp_comware, huawei_vrp, ruijie_os  # noqa: E402, F401, I001
from platforms.base import Platform, all_platforms, get
from platforms.driver import CliDriver, ConnectionInfo, DriverError


def driver_for(slug: str) -> type[CliDriver]:
    return get(slug).driver


def open_driver(slug: str, info: ConnectionInfo) -> CliDriver:
    """The platform's driver for one device, not yet open (use it as a context manager)."""
    return driver_for(slug).from_info(info)


__all__ = ["CliDriver", "ConnectionInfo", "DriverError", "Platform", "all_platforms", "driver_for", "get",
           "open_driver"]
