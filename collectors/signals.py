"""What the collectors tell the apps that build on them (policies, egress), without importing them."""

from django.dispatch import Signal

# A backup stored a new config version for a device: sent with device=Device, version=ConfigVersion.
config_changed = Signal()
