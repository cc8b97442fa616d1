"""Device credentials at rest: their own key, rotation all or nothing, one unreadable credential fails alone."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from collectors.models import BackupState, DeviceState
from collectors.services.backup import backup_devices
from inventory.models import Credential, Device
from web.models import SecurityEvent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _credential(name, secret, kind="ssh"):
    credential = Credential(name=name, kind=kind, username="admin")
    credential.secret = secret
    credential.save()
    return credential


def _key_id_with(secret_key: str, var_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ONENET_CREDENTIAL_KEY")}
    env.update(ONENET_SECRET_KEY=secret_key, ONENET_VAR_DIR=str(var_dir))
    code = ("from django.conf import settings; import hashlib; "
            "print(hashlib.sha256(settings.CREDENTIAL_KEY).hexdigest())")
    init = subprocess.run([sys.executable, "manage.py", "init"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert init.returncode == 0, init.stderr[-800:]
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-800:]
    return result.stdout.strip()


def test_changing_the_secret_key_does_not_change_the_credential_key(tmp_path):
    first = _key_id_with("a" * 60, tmp_path)
    assert _key_id_with("b" * 60, tmp_path) == first
    assert (tmp_path / "credential_key").stat().st_mode & 0o777 == 0o600


@pytest.fixture
def key_files(tmp_path, settings):
    settings.VAR_DIR = tmp_path  # the embedded key file the rotation replaces is this test's, not var/'s
    (tmp_path / "credential_key").write_bytes(settings.CREDENTIAL_KEY)
    new_key = Fernet.generate_key()
    (tmp_path / "new.key").write_bytes(new_key)
    return tmp_path, new_key


def _rotate(path, *extra):
    out = io.StringIO()
    call_command("credentials", "rotate-key", "--new-key-file", str(path), *extra, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_key_rotation_re_encrypts_every_credential(key_files, settings):
    var_dir, new_key = key_files
    old_key = settings.CREDENTIAL_KEY
    secrets = {"ssh-core": "core-pass-1", "snmp-county": "community-2", "ssh-cpe": "cpe-pass-3"}
    for name, secret in secrets.items():
        _credential(name, secret)
    result = _rotate(var_dir / "new.key")
    assert result["rotated"] == 3 and result["key_file"] == str(var_dir / "credential_key")
    assert (var_dir / "credential_key").read_bytes() == new_key
    assert (var_dir / "credential_key").stat().st_mode & 0o777 == 0o600
    settings.CREDENTIAL_KEY = new_key
    assert {c.name: c.secret for c in Credential.objects.all()} == secrets
    assert SecurityEvent.objects.filter(kind="credential_key_rotated").count() == 1
    # Run again from the old key (an interrupted rotation, a process not restarted): nothing is encrypted twice.
    settings.CREDENTIAL_KEY = old_key
    assert _rotate(var_dir / "new.key")["unchanged"] == 3
    with pytest.raises(CommandError, match="CREDENTIAL_KEY_INVALID"):
        _rotate(var_dir / "new.key", "--old-key-file", str(var_dir / "new.key"))


def test_key_rotation_changes_nothing_when_one_credential_cannot_be_read(key_files):
    var_dir, _new_key = key_files
    _credential("ssh-good", "good-pass")
    bad = _credential("ssh-lost", "lost-pass")
    Credential.objects.filter(pk=bad.pk).update(secret_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x"))
    before = {c.name: bytes(c.secret_encrypted) for c in Credential.objects.all()}
    key_before = (var_dir / "credential_key").read_bytes()
    with pytest.raises(CommandError, match="CREDENTIAL_UNREADABLE") as raised:
        _rotate(var_dir / "new.key")
    assert "ssh-lost" in str(raised.value)
    assert {c.name: bytes(c.secret_encrypted) for c in Credential.objects.all()} == before
    assert (var_dir / "credential_key").read_bytes() == key_before


def test_key_rotation_refuses_a_file_that_holds_no_key(key_files):
    var_dir, _ = key_files
    (var_dir / "bad.key").write_text("not-a-key")
    with pytest.raises(CommandError, match="CREDENTIAL_KEY_INVALID"):
        _rotate(var_dir / "bad.key")


def test_a_credential_that_cannot_be_decrypted_fails_its_device_alone(lab_inventory):
    devices = list(Device.objects.filter(status="active", expect_backup=True, site__region__slug="nanjiang-t01")
                   .order_by("name"))
    lost = _credential("ssh-lost", "whatever")
    Credential.objects.filter(pk=lost.pk).update(secret_encrypted=b"")  # as an empty admin form used to save it
    Device.objects.filter(pk=devices[0].pk).update(ssh_credential=lost)
    result = backup_devices(region_path=devices[0].site.region.path, with_tables=False)
    by_name = {r["device"]: r for r in result["devices"]}
    assert by_name[devices[0].name]["code"] == "CREDENTIAL_UNREADABLE"
    assert all(by_name[d.name]["status"] == "changed" for d in devices[1:]), result
    state = DeviceState.objects.get(device=devices[0])
    assert state.backup_state == BackupState.FAILED
    assert state.last_backup_error.startswith("CREDENTIAL_UNREADABLE")


def test_the_admin_does_not_save_a_credential_without_a_secret(client, make_user):
    client.force_login(make_user("root", role="admin", superuser=True))
    response = client.post("/admin/inventory/credential/add/", {"name": "ssh-empty", "kind": "ssh",
                                                                "username": "admin", "snmp_version": "2c",
                                                                "new_secret": ""})
    assert response.status_code == 200 and not Credential.objects.filter(name="ssh-empty").exists()
    client.post("/admin/inventory/credential/add/", {"name": "ssh-full", "kind": "ssh", "username": "admin",
                                                     "snmp_version": "2c", "new_secret": "s3cret-pass"})
    credential = Credential.objects.get(name="ssh-full")
    assert credential.secret == "s3cret-pass"
    # Editing it without typing a secret keeps the one it has.
    client.post(f"/admin/inventory/credential/{credential.pk}/change/", {"name": "ssh-full", "kind": "ssh",
                                                                         "username": "root", "snmp_version": "2c",
                                                                         "new_secret": ""})
    credential.refresh_from_db()
    assert (credential.username, credential.secret) == ("root", "s3cret-pass")
