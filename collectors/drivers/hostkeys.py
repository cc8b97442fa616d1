"""SSH host-key pinning: a password is only sent to a server that proved it holds the device's pinned key.

netmiko's default accepts any key (paramiko's AutoAddPolicy), so whoever answers at a device's address would
receive the login. Here the pinned key (first use, imported, or accepted by an engineer) is loaded into
paramiko before the handshake; paramiko checks it right after key exchange, before authentication, and a
different key ends the connection there.
"""

from __future__ import annotations

import paramiko

from inventory.sshkeys import fingerprint, key_line, parse_key_line


class HostKeyRefused(Exception):
    """The server's host key is not the pinned one (SSH_HOSTKEY_CHANGED), or nothing is pinned and first use
    is not trusted (SSH_HOSTKEY_UNKNOWN). No password was sent."""

    def __init__(self, code: str, offered: paramiko.PKey):
        self.code = code
        self.offered_key = key_line(offered)
        self.offered_fingerprint = fingerprint(offered)
        super().__init__(f"{code}: the server offered host key {self.offered_fingerprint}")


class _FirstUse(paramiko.MissingHostKeyPolicy):
    """Nothing pinned yet: remember the key (the caller pins it after the session), or refuse it."""

    def missing_host_key(self, client, hostname, key):
        client.first_use_key = key
        if not client.trust_first_use:
            raise HostKeyRefused("SSH_HOSTKEY_UNKNOWN", key)


class PinningClient(paramiko.SSHClient):
    def __init__(self, pinned_key: str | None, trust_first_use: bool):
        super().__init__()
        self.pinned = parse_key_line(pinned_key) if pinned_key else None
        self.trust_first_use = trust_first_use
        self.first_use_key: paramiko.PKey | None = None
        super().set_missing_host_key_policy(_FirstUse())

    def set_missing_host_key_policy(self, policy):
        """netmiko sets AutoAddPolicy here; the pinning policy stays."""

    def connect(self, hostname, port=22, **kwargs):
        if self.pinned is not None:
            # Loaded as known: paramiko also asks the server for this key's type first.
            name = hostname if port == 22 else f"[{hostname}]:{port}"
            self.get_host_keys().add(name, self.pinned.get_name(), self.pinned)
        try:
            return super().connect(hostname, port, **kwargs)
        except paramiko.BadHostKeyException as error:
            self.close()
            raise HostKeyRefused("SSH_HOSTKEY_CHANGED", error.key) from None
        except HostKeyRefused:
            self.close()
            raise
