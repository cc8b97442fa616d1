"""SSH public host keys as the inventory holds them: OpenSSH lines ("ssh-ed25519 AAAA…") and SHA256 fingerprints."""

from __future__ import annotations

import base64
import binascii
import hashlib

import paramiko


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
