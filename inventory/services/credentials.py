"""Device credentials at rest: which ones the current key can read, and key rotation.

Rotation re-encrypts every credential with a new Fernet key in one transaction: if any credential cannot be
read with the old key, nothing changes. The embedded default keeps its key under var/ and has it replaced
there; production sets ONENET_CREDENTIAL_KEY, which the operator then changes and restarts.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction

from inventory.models import Credential
from web.errors import OneNetError


class CredentialKeyError(OneNetError):
    def __init__(self, code: str, message: str, details: list[str] | None = None):
        super().__init__(code, message)
        self.details = details or []


def key_id(key: bytes) -> str:
    """A short, non-secret name for a key, so operators can tell keys apart without showing them."""
    return hashlib.sha256(key).hexdigest()[:12]


def unreadable_credentials(key: bytes | None = None) -> list[str]:
    """Names of the credentials the key (default: the configured one) cannot decrypt."""
    fernet = Fernet(key or settings.CREDENTIAL_KEY)
    bad = []
    for name, token in Credential.objects.values_list("name", "secret_encrypted"):
        try:
            fernet.decrypt(bytes(token or b""))
        except InvalidToken:
            bad.append(name)
    return bad


def rotate_credential_key(new_key: bytes, old_key: bytes | None = None) -> dict:
    """Re-encrypt every credential from `old_key` (default: the configured key) to `new_key`, all or nothing.
    Credentials already under the new key are left as they are, so an interrupted rotation can be run again."""
    old_key = old_key or settings.CREDENTIAL_KEY
    if old_key == new_key:
        raise CredentialKeyError("CREDENTIAL_KEY_INVALID", "the new key is the key in use; generate a new one with "
                                 "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
                                 ".decode())'`.")
    old, new = Fernet(old_key), Fernet(new_key)
    rotated = unchanged = 0
    unreadable = []
    with transaction.atomic():
        for credential in Credential.objects.select_for_update().order_by("pk"):
            token = bytes(credential.secret_encrypted or b"")
            try:
                plain = old.decrypt(token)
            except InvalidToken:
                try:
                    new.decrypt(token)
                    unchanged += 1
                except InvalidToken:
                    unreadable.append(credential.name)
                continue
            credential.secret_encrypted = new.encrypt(plain)
            credential.save(update_fields=["secret_encrypted"])
            rotated += 1
        if unreadable:
            raise CredentialKeyError(
                "CREDENTIAL_UNREADABLE", f"{len(unreadable)} credential(s) cannot be decrypted with the old key; "
                "nothing was changed. Give the key they were encrypted with (--old-key-file), or enter their "
                "secrets again in the admin.", unreadable)
    embedded_file = None
    if "ONENET_CREDENTIAL_KEY" not in os.environ:
        embedded_file = _replace_embedded_key(Path(settings.VAR_DIR) / "credential_key", new_key)
        settings.CREDENTIAL_KEY = new_key
    from web import security

    security.record("credential_key_rotated", detail=f"{key_id(old_key)} → {key_id(new_key)}: {rotated} re-encrypted")
    return {"rotated": rotated, "unchanged": unchanged, "new_key_id": key_id(new_key),
            "key_file": str(embedded_file) if embedded_file else None,
            "next_step": "restart the console and the workers so they read the new key" if embedded_file else
                         "set ONENET_CREDENTIAL_KEY to the new key in every process's environment and restart them"}


def _replace_embedded_key(path: Path, key: bytes) -> Path:
    """Write the new key beside the old one (0600), then swap it in atomically."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(key)
    os.replace(temporary, path)
    return path
