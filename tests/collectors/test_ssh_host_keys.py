"""SSH host keys are pinned per device: a server holding another key never receives the device's password.

The impostor is a real paramiko SSH server on the lab device's own address (another port), as something
answering in the device's place would be; it records every authentication attempt it sees.
"""

import socket
import threading

import paramiko
import pytest
from django.urls import reverse

from collectors.models import BackupState, DeviceState
from collectors.services.backup import backup_devices
from inventory.models import Device, HostKeySource, SshHostKey
from platforms.hostkeys import fingerprint, key_line
from threat.services.enrichment import read_site_tables
from web.models import SecurityEvent

pytestmark = pytest.mark.django_db


class Impostor(paramiko.ServerInterface):
    """An SSH server with a key of its own that would gladly take any password."""

    def __init__(self, address: str):
        self.key = paramiko.Ed25519Key.from_private_key(_new_ed25519_pem())
        self.attempts: list[tuple[str, str | None]] = []
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        self.transports: list[paramiko.Transport] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.key)
            self.transports.append(transport)
            try:
                transport.start_server(server=self)
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def close(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would not, and the thread would later
        # retry accept() on the same descriptor number, by then another test's listening socket (the live server's).
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(10)
        for transport in self.transports:
            transport.close()

    # paramiko.ServerInterface
    def get_allowed_auths(self, username):
        return "password"

    def check_auth_none(self, username):
        self.attempts.append((username, None))
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        self.attempts.append((username, password))
        return paramiko.AUTH_SUCCESSFUL


def _new_ed25519_pem():
    import io

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                    serialization.NoEncryption())
    return io.StringIO(pem.decode())


@pytest.fixture
def device(lab_inventory):
    """A lab device that has been backed up once, so its real host key is pinned."""
    name = next(d.name for d in lab_inventory.devices if d.status == "active" and d.platform == "huawei_vrp"
                and not d.faults)
    result = backup_devices(device_name=name, with_tables=False)
    assert result["failed"] == 0, result
    return Device.objects.get(name=name)


@pytest.fixture
def impostor(device):
    server = Impostor(device.address)
    yield server
    server.close()


def _answered_by(device, server):
    Device.objects.filter(pk=device.pk).update(ssh_port=server.port)


def test_the_first_backup_pins_the_key_the_device_showed(device):
    pinned = SshHostKey.objects.get(device=device)
    assert pinned.source == HostKeySource.FIRST_USE and pinned.key.startswith("ssh-ed25519 ")
    assert pinned.fingerprint.startswith("SHA256:") and not pinned.offered_key
    assert SecurityEvent.objects.filter(kind="hostkey_pinned", device=device).count() == 1
    # The next backup meets the same key: nothing changes, nothing is logged again.
    assert backup_devices(device_name=device.name, with_tables=False)["failed"] == 0
    assert SshHostKey.objects.get(device=device).key == pinned.key
    assert SecurityEvent.objects.filter(device=device).count() == 1


@pytest.mark.parametrize("session", ["backup", "threat locate"])
def test_a_server_with_another_key_at_the_device_address_gets_no_password(device, impostor, session):
    _answered_by(device, impostor)
    if session == "backup":
        result = backup_devices(device_name=device.name, with_tables=False)
        assert result["failed"] == 1 and result["devices"][0]["code"] == "SSH_HOSTKEY_CHANGED"
        state = DeviceState.objects.get(device=device)
        assert state.backup_state == BackupState.FAILED and state.last_backup_error.startswith("SSH_HOSTKEY_CHANGED")
    else:
        assert read_site_tables(device.site_id) < Device.objects.filter(site_id=device.site_id).count()
    assert impostor.attempts == []  # not even a user name reached it
    pinned = SshHostKey.objects.get(device=device)
    assert pinned.offered_fingerprint == fingerprint(impostor.key) != pinned.fingerprint
    assert pinned.source == HostKeySource.FIRST_USE  # the pinned key stays until an engineer accepts another
    assert SecurityEvent.objects.filter(kind="hostkey_changed", device=device).count() == 1


def test_without_trust_on_first_use_an_unknown_key_gets_no_password(device, impostor, settings):
    settings.ONENET_SSH_TRUST_FIRST_USE = False
    SshHostKey.objects.filter(device=device).delete()
    _answered_by(device, impostor)
    result = backup_devices(device_name=device.name, with_tables=False)
    assert result["devices"][0]["code"] == "SSH_HOSTKEY_UNKNOWN"
    assert impostor.attempts == []
    waiting = SshHostKey.objects.get(device=device)
    assert waiting.key == "" and waiting.offered_key == key_line(impostor.key)


def test_an_engineer_in_scope_reviews_and_accepts_a_changed_key(device, impostor, client, make_user):
    _answered_by(device, impostor)
    backup_devices(device_name=device.name, with_tables=False)
    county = device.site.region.path.split("/")[2]
    other = next(slug for slug in ("nanjiang", "beiling", "dongchuan") if slug != county)
    offered = fingerprint(impostor.key)
    url = reverse("accept_host_key", args=[device.pk])
    page = reverse("inventory:device", args=[device.pk])

    client.force_login(make_user("mgr", role="manager"))
    assert offered in client.get(page).content.decode()
    assert client.post(url, {"fingerprint": offered}).status_code == 403
    client.force_login(make_user("far-away", role="engineer", region=other))
    assert client.post(url, {"fingerprint": offered}).status_code == 404
    engineer = make_user("near", role="engineer", region=county)
    client.force_login(engineer)
    client.post(url, {"fingerprint": "SHA256:not-what-it-offers"})
    assert SshHostKey.objects.get(device=device).source == HostKeySource.FIRST_USE  # a stale form changes nothing
    assert client.post(url, {"fingerprint": offered}).status_code == 302

    pinned = SshHostKey.objects.get(device=device)
    assert (pinned.fingerprint, pinned.source, pinned.pinned_by) == (offered, HostKeySource.ACCEPTED, "near")
    assert pinned.offered_key == ""
    assert SecurityEvent.objects.filter(kind="hostkey_accepted", username="near", device=device).exists()
    # Now the accepted key is the device's: the login goes to it.
    backup_devices(device_name=device.name, with_tables=False)
    assert impostor.attempts and impostor.attempts[-1][1] is not None


def test_a_key_imported_with_the_inventory_is_pinned_and_exported_again(lab_inventory):
    from inventory.services import ImportFailed, export_document, import_document

    name = next(d.name for d in lab_inventory.devices if d.status == "active" and not d.faults)
    other_key = key_line(paramiko.Ed25519Key.from_private_key(_new_ed25519_pem()))
    import_document({"devices": [_device_row(name, ssh_host_key=other_key + " root@elsewhere")]}, "keys.yaml")
    pinned = SshHostKey.objects.get(device__name=name)
    assert (pinned.key, pinned.source) == (other_key, HostKeySource.INVENTORY)
    assert next(d for d in export_document()["devices"] if d["name"] == name)["ssh_host_key"] == other_key
    # The real device holds another key: the inventory's word stands, and it gets no password.
    result = backup_devices(device_name=name, with_tables=False)
    assert result["devices"][0]["code"] == "SSH_HOSTKEY_CHANGED"
    with pytest.raises(ImportFailed, match="field 'ssh_host_key'"):
        import_document({"devices": [_device_row(name, ssh_host_key="ssh-ed25519 not-base64!")]}, "bad.yaml")


def _device_row(name, **extra):
    from inventory.services import export_document

    row = next(d for d in export_document()["devices"] if d["name"] == name)
    return {**row, **extra}
