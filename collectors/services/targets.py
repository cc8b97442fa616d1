"""How the SNMP collectors reach a device: its target (address, port, credential, bounds) and what its errors mean.

Shared by the poll cycle (collectors.services.polling) and interface discovery (collectors.services.discovery),
which both import it and neither imports the other.
"""

from __future__ import annotations

import logging

from django.conf import settings

from collectors.models import SnmpState
from collectors.snmp.client import SnmpTarget
from inventory.models import Device
from web.errors import OneNetError

log = logging.getLogger(__name__)

# The client's error kinds → the state an operator sees.
ERROR_STATES = {"timeout": SnmpState.UNREACHABLE, "auth": SnmpState.AUTH_FAILED}


class CredentialUnreadable(OneNetError):
    """A device's SNMP credential cannot be decrypted: that device fails alone."""

    def __init__(self, credential):
        self.credential = credential
        super().__init__(
            "CREDENTIAL_UNREADABLE", f"the SNMP credential {credential.name!r} cannot be decrypted (its secret is "
            "empty or was encrypted with another key); re-enter its secret in the admin, or check that "
            "ONENET_CREDENTIAL_KEY is the key it was saved with.")


def snmp_target(device: Device) -> SnmpTarget:
    """How to reach a device by SNMP; raises CredentialUnreadable when its credential cannot be decrypted."""
    credential = device.snmp_credential
    common = {"host": device.address, "port": device.snmp_port, "name": device.name,
              "timeout": settings.ONENET_SNMP_TIMEOUT, "retries": settings.ONENET_SNMP_RETRIES,
              "deadline": settings.ONENET_SNMP_DEADLINE}
    try:
        secret = credential.secret if credential is not None else "public"
    except (ValueError, TypeError):  # the model's "cannot be decrypted"; TypeError: no bytes at all
        raise CredentialUnreadable(credential) from None
    if credential is not None and credential.snmp_version == "3":
        return SnmpTarget(version="3", user=credential.username, auth_key=secret, **common)
    return SnmpTarget(version="2c", community=secret, **common)


def snmp_targets(devices: list[Device]) -> tuple[list[tuple[Device, SnmpTarget]], dict[int, str]]:
    """The targets of the devices that can be reached, and, by device id, why the others cannot."""
    reachable, unreadable = [], {}
    for device in devices:
        try:
            reachable.append((device, snmp_target(device)))
        except CredentialUnreadable as exc:
            unreadable[device.pk] = str(exc)[:300]
            log.warning("poll %s: %s", device.name, exc)
    return reachable, unreadable
