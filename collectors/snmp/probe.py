"""``probe()``: identify one device and read its interfaces, synchronously (runs its own event loop).

Returns exactly DESIGN's ``snmpprobe`` JSON: ``system`` {sysDescr, sysObjectID, sysName, sysUpTime, platform,
vendor, model, os_version} and ``interfaces`` [{ifIndex, ifName, ifDescr, ifAlias, ifType, speed_bps,
admin_status, oper_status, mtu, mac, in_octets, out_octets, in_errors, out_errors, in_discards,
out_discards, counter_bits}]: ``counter_bits`` is 64 where the octets are ifHC* counters, 32 where the interface
has only ifInOctets/ifOutOctets. Raises :class:`SnmpError` (kind timeout/auth/garbage/error) when the device fails.
"""

from __future__ import annotations

import asyncio

from .client import SnmpError, SnmpTarget, discover

SYSTEM_KEYS = ("sysDescr", "sysObjectID", "sysName", "sysUpTime", "platform", "vendor", "model", "os_version")
INTERFACE_KEYS = ("ifIndex", "ifName", "ifDescr", "ifAlias", "ifType", "speed_bps", "admin_status",
                  "oper_status", "mtu", "mac", "in_octets", "out_octets", "in_errors", "out_errors",
                  "in_discards", "out_discards", "counter_bits")


def probe(host: str, port: int = 161, community: str = "public", version: str = "2c", timeout: float = 2.0,
          retries: int = 1, deadline: float = 60.0, **v3) -> dict:
    """Identify one device and read its interfaces (counters included). ``v3``: user, auth_key,
    auth_protocol, priv_key, priv_protocol for SNMPv3."""
    target = SnmpTarget(host=host, port=int(port), community=community, version=version, timeout=timeout,
                        retries=retries, deadline=deadline, **v3)
    res = asyncio.run(discover(target, with_counters=True))
    if not res.ok:
        raise SnmpError(res.error or "error", res.error_message or "probe failed")
    return {
        "system": {k: res.system.get(k) for k in SYSTEM_KEYS},
        "interfaces": [{k: row.get(k) for k in INTERFACE_KEYS} for row in res.interfaces],
    }
