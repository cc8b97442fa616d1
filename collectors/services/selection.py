"""Which devices a collector run covers: one by name, a county's subtree, the city level's own, or all."""

from inventory.choices import DeviceStatus
from inventory.models import Device


def devices_to_collect(expectation: str, device_name=None, region_path=None, city_only=False):
    """Active devices with the flag `expectation` (expect_polling / expect_backup) set, narrowed as asked.

    A device asked for by name is collected whatever its flags: the operator asked for it.
    """
    devices = Device.objects.filter(status=DeviceStatus.ACTIVE, **{expectation: True})
    if device_name:
        devices = Device.objects.filter(name=device_name)
    if region_path:
        devices = devices.filter(site__region__path__startswith=region_path)
    if city_only:
        devices = devices.filter(site__region__level="city")
    return devices.order_by("name")
