"""The OIDs the collectors read and the client's public types: targets, results, errors."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("onenet.collectors.snmp")



# ------------------------------------------------------------------ OIDs

SYS = "1.3.6.1.2.1.1"
SYS_DESCR = SYS + ".1.0"
SYS_OBJECT_ID = SYS + ".2.0"
SYS_UPTIME = SYS + ".3.0"
SYS_CONTACT = SYS + ".4.0"
SYS_NAME = SYS + ".5.0"
SYS_LOCATION = SYS + ".6.0"

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
COLUMNS = {
    "ifDescr": IF + ".2",
    "ifType": IF + ".3",
    "ifMtu": IF + ".4",
    "ifSpeed": IF + ".5",
    "ifPhysAddress": IF + ".6",
    "ifAdminStatus": IF + ".7",
    "ifOperStatus": IF + ".8",
    "ifInOctets": IF + ".10",
    "ifInDiscards": IF + ".13",
    "ifInErrors": IF + ".14",
    "ifOutOctets": IF + ".16",
    "ifOutDiscards": IF + ".19",
    "ifOutErrors": IF + ".20",
    "ifName": IFX + ".1",
    "ifHCInOctets": IFX + ".6",
    "ifHCOutOctets": IFX + ".10",
    "ifHighSpeed": IFX + ".15",
    "ifAlias": IFX + ".18",
    "entPhysicalClass": "1.3.6.1.2.1.47.1.1.1.1.5",
    "entPhysicalModelName": "1.3.6.1.2.1.47.1.1.1.1.13",
}

POLL_COLUMNS = ("ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards",
                "ifOutDiscards", "ifOperStatus")
POLL_COLUMNS_32 = ("ifInOctets", "ifOutOctets")
DISCOVER_COLUMNS = ("ifDescr", "ifType", "ifMtu", "ifSpeed", "ifPhysAddress", "ifAdminStatus",
                    "ifOperStatus", "ifName", "ifHighSpeed", "ifAlias")

IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
             7: "lowerLayerDown"}
MAX_STRING = 255  # ifName/ifDescr/ifAlias are DisplayString(SIZE(0..255)) / (0..64)
MAX_SYSDESCR = 2048
MAX_ROWS = 20000  # per column: no real device has more interfaces than that
MAX_IFINDEX = 2**31 - 1



# ------------------------------------------------------------------ public types


class SnmpError(Exception):
    """A typed failure of one device. ``kind`` is one of timeout, auth, garbage, error."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self):
        return f"{self.kind}: {self.message}"


@dataclass
class SnmpTarget:
    """How to reach one device. ``version`` is '1', '2c' or '3'."""

    host: str
    port: int = 161
    community: str = "public"
    version: str = "2c"
    name: str | None = None
    # SNMPv3 (USM). auth_protocol: SHA (default), MD5, SHA224, SHA256, SHA384, SHA512, NONE
    user: str | None = None
    auth_key: str | None = None
    auth_protocol: str = "SHA"
    priv_key: str | None = None
    priv_protocol: str = "NONE"
    context: str = ""  # SNMPv3 context name
    # timing: pysnmp per-request timeout/retries, our own per-device deadline
    timeout: float = 2.0
    retries: int = 1
    deadline: float = 30.0
    # var-binds asked per GETBULK (max-repetitions = max_varbinds // columns); agents may send fewer
    max_varbinds: int = 128

    def __post_init__(self):
        self.version = str(self.version).lower().lstrip("v")
        if self.version not in ("1", "2c", "3"):
            self.version = "2c"
        self.port = int(self.port)
        if not self.name:
            self.name = f"{self.host}:{self.port}"

    @classmethod
    def coerce(cls, obj: Any) -> SnmpTarget:
        if isinstance(obj, SnmpTarget):
            return obj
        if isinstance(obj, dict):
            known = {k: v for k, v in obj.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        if isinstance(obj, (tuple, list)):
            return cls(*obj)
        if isinstance(obj, str):
            host, _, port = obj.rpartition(":") if obj.count(":") == 1 else (obj, "", "")
            return cls(host=host or obj, port=int(port) if port else 161)
        raise TypeError(f"cannot make an SnmpTarget from {type(obj).__name__}")

    def key(self) -> tuple:
        return (self.host, self.port, self.version, self.community, self.user, self.auth_key,
                self.auth_protocol, self.priv_key, self.priv_protocol, self.context, self.timeout, self.retries)


@dataclass
class InterfaceCounters:
    ifIndex: int  # noqa: N815 - IF-MIB names
    in_octets: int | None = None
    out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    oper_status: str | None = None
    counter_bits: int = 64  # width of this row's octets: 64 (ifHC*) or 32 (ifInOctets/ifOutOctets, wrap at 2**32)
    uptime: int | None = None  # sysUpTime of the response that carried this row's octets (None: use the device's)


@dataclass
class DevicePoll:
    """Result of one counter poll of one device (``error`` set when it failed)."""

    name: str
    host: str
    port: int
    ok: bool = False
    error: str | None = None  # timeout | auth | garbage | error
    error_message: str | None = None
    timestamp: float = 0.0  # time.time() when the answer arrived
    elapsed: float = 0.0
    sys_uptime: int | None = None  # TimeTicks (1/100 s)
    counter_bits: int = 64  # 32 when no interface had 64-bit counters (each row has its own width)
    interfaces: dict[int, InterfaceCounters] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["interfaces"] = [asdict(v) for _, v in sorted(self.interfaces.items())]
        return d


@dataclass
class DeviceDiscovery:
    """Result of ``discover``: system group, identity and the interface table."""

    name: str
    host: str
    port: int
    ok: bool = False
    error: str | None = None
    error_message: str | None = None
    elapsed: float = 0.0
    system: dict = field(default_factory=dict)
    counter_bits: int = 64
    interfaces: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


