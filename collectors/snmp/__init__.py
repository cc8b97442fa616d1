"""SNMP collection core (pure asyncio, no Django): see client, identify, rates, probe."""

from .client import (
    DeviceDiscovery,
    DevicePoll,
    InterfaceCounters,
    SnmpError,
    SnmpTarget,
    discover,
    poll_interfaces,
    poll_many,
    poll_many_processes,
)
from .identify import Identity, decode_text, identify

__all__ = [
    "DeviceDiscovery",
    "DevicePoll",
    "Identity",
    "InterfaceCounters",
    "SnmpError",
    "SnmpTarget",
    "decode_text",
    "discover",
    "identify",
    "poll_interfaces",
    "poll_many",
    "poll_many_processes",
]
