"""SSH host-key pinning: a password is only sent to a server that proved it holds the device's pinned key.

netmiko's default accepts any key (paramiko's AutoAddPolicy), so whoever answers at a device's address would
receive the login. Here the pinned key (first use, imported, or accepted by an engineer) is loaded into
paramiko before the handshake; paramiko checks it right after key exchange, before authentication, and a
different key ends the connection there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

import paramiko


class HostKeyRefused(Exception):
    """The server's host key is not the pinned one (SSH_HOSTKEY_CHANGED), or nothing is pinned and first use
    is not trusted (SSH_HOSTKEY_UNKNOWN). No password was sent."""

    def __init__(self, code: str, offered: paramiko.PKey):
        self.code = code
        self.offered_key = key_line(offered)
        self.offered_fingerprint = fingerprint(offered)
        super().__init__(f"{code}: the server offered host key {self.offered_fingerprint}")


def key_line(key: paramiko.PKey) -> str:
    """The key as an OpenSSH public key line ("ssh-ed25519 AAAA…"), as known_hosts and the inventory hold it."""
    return f"{key.get_name()} {key.get_base64()}"


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256:… as `ssh-keygen -l` prints it, so an engineer can compare it with the device's own."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def parse_key_line(line: str) -> paramiko.PKey:
    """An OpenSSH public key line (a trailing comment is allowed); ValueError when it is not one."""
    parts = (line or "").split()
    if len(parts) < 2:
        raise ValueError("expected an OpenSSH public key line such as 'ssh-ed25519 AAAA…'")
    try:
        return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (binascii.Error, paramiko.SSHException, ValueError) as error:
        raise ValueError(f"not a usable {parts[0]} public key ({error})") from None


def line_fingerprint(line: str) -> str:
    return fingerprint(parse_key_line(line))


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
