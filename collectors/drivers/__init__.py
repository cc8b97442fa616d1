"""One vendor, one module, behind the small `Driver` protocol; drivers register by platform slug."""

# Importing the vendor modules registers them.
from collectors.drivers import cisco_ios, hp_comware, huawei_vrp, ruijie_os  # noqa: E402, F401, I001
from collectors.drivers.base import Driver, DriverError, driver_for, register

__all__ = ["Driver", "DriverError", "driver_for", "register"]
