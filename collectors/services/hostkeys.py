"""How OneNet reaches a device over SSH, and the device's pinned host key.

Every SSH session (backups, the threat locator, later pushes) gets its ConnectionInfo here, so none can
forget the pinned key. A first key is pinned after the session that saw it; a refused key waits on the
device's page until an engineer accepts it. Each pin, refusal and acceptance is a security event.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from inventory.models import Device, HostKeySource, SshHostKey
from platforms import ConnectionInfo, DriverError
from platforms.hostkeys import line_fingerprint
from web import security


def connection_info(device: Device) -> ConnectionInfo:
    """The device's address, login and pinned key. DriverError when it has no usable SSH credential."""
    credential = device.ssh_credential
    if credential is None:
        raise DriverError("SSH_NO_CREDENTIAL", f"{device.name} has no SSH credential in the inventory; give it one "
                                               "to reach it over SSH.")
    try:
        password = credential.secret
    except ValueError:
        raise DriverError("CREDENTIAL_UNREADABLE", f"the SSH credential {credential.name!r} of {device.name} cannot "
                                                   "be decrypted; enter its secret again, or check "
                                                   "ONENET_CREDENTIAL_KEY.") from None
    try:
        pinned = device.ssh_host_key.key or None  # select_related("ssh_host_key") saves a query per device
    except SshHostKey.DoesNotExist:
        pinned = None
    return ConnectionInfo(device.address, device.ssh_port, credential.username, password, device.name,
                          timeout=settings.ONENET_SSH_TIMEOUT, host_key=pinned,
                          trust_first_use=settings.ONENET_SSH_TRUST_FIRST_USE)


def remember_first_key(device: Device, key: str) -> None:
    """Pin the key a device showed on its first session (trust on first use)."""
    row, created = SshHostKey.objects.get_or_create(device=device)
    if row.key and not created:
        return
    row.key, row.fingerprint = key, line_fingerprint(key)
    row.source, row.pinned_at, row.pinned_by = HostKeySource.FIRST_USE, timezone.now(), ""
    row.save()
    security.record("hostkey_pinned", device=device, detail=f"first use: {row.fingerprint}")


def remember_refusal(device: Device, error: DriverError) -> None:
    """Keep the key a refused server offered, for review; one security event per distinct key."""
    offered = error.details.get("offered_key")
    if not offered:
        return
    row, _ = SshHostKey.objects.get_or_create(device=device)
    new = row.offered_key != offered
    row.offered_key, row.offered_fingerprint = offered, error.details["offered_fingerprint"]
    row.offered_at = timezone.now()
    row.save(update_fields=["offered_key", "offered_fingerprint", "offered_at"])
    if new:
        security.record("hostkey_changed", device=device, detail=str(error))


def accept_offered_key(device: Device, user) -> SshHostKey:
    """An engineer checked the offered key (e.g. against the device's console) and pins it instead."""
    row = SshHostKey.objects.get(device=device)
    if not row.offered_key:
        raise DriverError("SSH_HOSTKEY_NOTHING_OFFERED", f"{device.name} has no offered host key to accept.")
    previous = row.fingerprint or "none"
    row.key, row.fingerprint = row.offered_key, row.offered_fingerprint
    row.source, row.pinned_at, row.pinned_by = HostKeySource.ACCEPTED, timezone.now(), user.get_username()
    row.offered_key, row.offered_fingerprint, row.offered_at = "", "", None
    row.save()
    security.record("hostkey_accepted", username=user.get_username(), device=device,
                    detail=f"{previous} → {row.fingerprint}")
    return row


def after_session(device: Device, host_key: str | None, first_use: bool, error: DriverError | None) -> None:
    """What a finished SSH session teaches about the device's key (called from the thread that owns the DB)."""
    if error is not None and error.code in ("SSH_HOSTKEY_CHANGED", "SSH_HOSTKEY_UNKNOWN"):
        remember_refusal(device, error)
    elif error is None and first_use and host_key:
        remember_first_key(device, host_key)
