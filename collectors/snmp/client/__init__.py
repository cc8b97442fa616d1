"""SNMP collection core: a bounded, tolerant pysnmp 7 asyncio client.

- one ``SnmpEngine`` per process (per event loop, since pysnmp binds its transport to the running loop);
- GETBULK of just the needed columns, several columns per request, with a bounded walk that stops at the
  end of each column, on a non-increasing OID and on the first error;
- every request is bounded by an ``asyncio.wait_for`` deadline of our own, and every device by a total
  deadline (pysnmp alone may keep yielding timeouts forever);
- v1/v2c communities and v3 USM (authNoPriv SHA, or whatever protocols the target names);
- ``poll_many`` bounds concurrency with a semaphore; a device that is unreachable, slow or lying fails
  alone with a typed :class:`SnmpError` kind (``timeout``, ``auth``, ``garbage``, ``error``);
- one UDP transport per process is shared by every device, and survives a target it cannot send to (that
  device fails alone with the reason); ``poll_many_processes`` shards never outlive their parent;
- values are decoded defensively: wrong types, garbage, truncated tables, duplicate indexes, huge or
  non-UTF-8 strings are logged with the device name and skipped or capped, never raised.
"""


from .session import get_dispatcher, get_engine, get_scalars
from .types import (
    COLUMNS,
    DISCOVER_COLUMNS,
    POLL_COLUMNS,
    SYS_UPTIME,
    DeviceDiscovery,
    DevicePoll,
    InterfaceCounters,
    SnmpError,
    SnmpTarget,
)
from .values import as_int, as_mac, as_oid, as_text, status_name, type_name
from .walks import discover, poll_interfaces, poll_many, poll_many_processes, prepare

__all__ = ["COLUMNS", "DISCOVER_COLUMNS", "POLL_COLUMNS", "SYS_UPTIME", "DeviceDiscovery", "DevicePoll",
           "InterfaceCounters", "SnmpError", "SnmpTarget", "as_int", "as_mac", "as_oid", "as_text", "discover",
           "get_dispatcher", "get_engine", "get_scalars", "poll_interfaces", "poll_many", "poll_many_processes",
           "prepare", "status_name", "type_name"]
