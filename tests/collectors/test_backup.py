"""SSH config backup against the lab's real SSH devices: versions stored once, diffs, failures, tables."""

import io
import json
import re
import time
from collections import Counter

import pytest
from django.core.management import call_command

import platforms
from collectors.models import ArpEntry, BackupState, ConfigVersion, DeviceState, LldpNeighbor, MacEntry
from collectors.services.backup import backup_devices
from inventory.models import Credential, Device, Interface
from lab.ssh.configs import is_two_stage
from platforms import ConnectionInfo
from platforms.parsing import normalise_mac

pytestmark = pytest.mark.django_db

# A date and time as the vendors print them in config headers ("2026-11-27 10:00:01", "10:00:01 UTC Fri ...").
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}(\.\d+)? (UTC|CST)")


@pytest.fixture(scope="module")
def backed_up(lab, lab_ports, django_db_setup, django_db_blocker):
    """The test lab imported and backed up twice (tables the first time); kept for the module, flushed after."""
    from inventory.services import import_document
    from lab.services import inventory_document

    with django_db_blocker.unblock():
        import_document(inventory_document(lab, *lab_ports), "test-lab")
        first = backup_devices()
        versions_after_first = ConfigVersion.objects.count()
        second = backup_devices(with_tables=False)
        yield lab, first, second, versions_after_first
        call_command("flush", "--noinput", verbosity=0)


def expected_devices(topology) -> set[str]:
    return {d.name for d in topology.devices if d.status == "active"}


def test_a_backup_stores_each_config_once(backed_up):
    topology, first, second, versions_after_first = backed_up
    assert first["failed"] == 0, [r for r in first["devices"] if r["status"] == "failed"]
    assert {r["device"] for r in first["devices"]} == expected_devices(topology)
    assert first["changed"] == len(expected_devices(topology)) == versions_after_first
    assert second["changed"] == second["failed"] == 0
    assert second["unchanged"] == first["changed"]
    assert ConfigVersion.objects.count() == versions_after_first
    assert {r["version"] for r in second["devices"]} == {r["version"] for r in first["devices"]}
    assert set(DeviceState.objects.values_list("backup_state", flat=True)) == {BackupState.OK}


def test_stored_configs_are_the_devices_configs_without_volatile_lines(backed_up):
    for version in ConfigVersion.objects.select_related("device"):
        assert version.device.name in version.text
        assert not TIMESTAMP.search(version.text), (version.device.name, TIMESTAMP.search(version.text)[0])
        assert version.diff == ""  # the first version has nothing to differ from


def change_description(device: Device, interface: str, description: str | None, two_stage: bool):
    """Set (or, with None, remove) an interface description over SSH, in system view, with netmiko (the
    driver's session; netmiko's own config helpers wait seconds for silence on VRP), committing on VRP8."""
    credential = device.ssh_credential
    info = ConnectionInfo(device.address, device.ssh_port, credential.username, credential.secret, device.name)
    line = f"description {description}" if description else "undo description"
    with platforms.open_driver(device.platform, info) as driver:
        for command in ["system-view", f"interface {interface}", line] + (["commit"] if two_stage else []):
            output = driver.session.send_command(command, expect_string=r"\]\s*$")
            assert "Error" not in output, (command, output)
        driver.session.send_command("return", expect_string=r">\s*$")


def test_a_change_on_a_device_yields_exactly_one_new_version_with_the_right_diff(backed_up):
    topology, *_ = backed_up
    lab_device = next(d for d in topology.devices if d.platform == "huawei_vrp" and is_two_stage(d)
                      and d.status == "active")
    device = Device.objects.get(name=lab_device.name)
    interface = next(i for i in lab_device.interfaces if i.name.startswith(("GigabitEthernet", "XGigabitEthernet")))
    before = ConfigVersion.objects.filter(device=device).count()
    change_description(device, interface.name, "backup-test-change", two_stage=True)
    try:
        result = backup_devices(device_name=device.name, with_tables=False)
    finally:
        change_description(device, interface.name, interface.description or None, two_stage=True)
    assert result["changed"] == 1 and result["devices"][0]["status"] == "changed"
    assert ConfigVersion.objects.filter(device=device).count() == before + 1
    version = ConfigVersion.objects.filter(device=device).latest()
    assert version.pk == result["devices"][0]["version"]
    body = [line for line in version.diff.splitlines()[2:] if line[:1] in "+-"]
    assert " description backup-test-change" in [line[1:] for line in body if line.startswith("+")]
    assert all("description" in line for line in body), body  # nothing volatile, nothing else
    assert not any(TIMESTAMP.search(line) for line in body)
    assert version.lines_added == 1 and version.lines_removed == (1 if interface.description else 0)
    # Changed back: the next backup stores the original again, once.
    again = backup_devices(device_name=device.name, with_tables=False)
    assert again["changed"] == 1
    assert ConfigVersion.objects.filter(device=device).latest().sha256 == \
        ConfigVersion.objects.filter(device=device).order_by("fetched_at", "pk")[before - 1].sha256


def test_tables_locate_every_topology_host_by_ip_mac_and_switch_port(backed_up):
    topology, *_ = backed_up
    checked = 0
    for host in topology.hosts:
        arp = ArpEntry.objects.filter(ip=host.ip, device__name=host.gateway).first()
        assert arp is not None, host
        assert arp.mac == normalise_mac(host.mac)
        entry = MacEntry.objects.get(device__name=host.switch, mac=arp.mac)
        assert entry.port == host.port
        assert Interface.objects.filter(device__name=host.switch, name=entry.port).exists()
        checked += 1
    assert checked > 20


def test_table_interface_names_are_inventory_interface_names(backed_up):
    names = set(Interface.objects.values_list("device__name", "name"))
    arp = set(ArpEntry.objects.values_list("device__name", "interface"))
    mac = set(MacEntry.objects.values_list("device__name", "port"))
    lldp = set(LldpNeighbor.objects.values_list("device__name", "local_port"))
    assert arp and mac and lldp
    assert arp <= names, sorted(arp - names)[:5]
    assert mac <= names, sorted(mac - names)[:5]
    assert lldp <= names, sorted(lldp - names)[:5]
    seen = set(ArpEntry.objects.values_list("device__platform", flat=True))
    assert seen == {"huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"}


def test_lldp_neighbours_match_the_topology_links(backed_up):
    topology, *_ = backed_up
    active = expected_devices(topology)
    expected = set()
    for link in topology.links:
        if link.a_device in active and link.b_device in active:
            expected |= {(link.a_device, link.a_interface, link.b_device), (link.b_device, link.b_interface,
                                                                             link.a_device)}
    stored = set(LldpNeighbor.objects.values_list("device__name", "local_port", "neighbor_name"))
    assert stored == expected


def test_a_wrong_password_and_an_unreachable_device_fail_alone(backed_up):
    topology, *_ = backed_up
    paths = Counter(Device.objects.filter(status="active").values_list("site__region__path", flat=True))
    under = {path: sum(n for other, n in paths.items() if other.startswith(path)) for path in paths}
    region = min((path for path in under if under[path] >= 3), key=lambda path: (under[path], path))
    devices = list(Device.objects.filter(status="active", site__region__path__startswith=region).order_by("name"))
    wrong, unreachable = devices[0], devices[1]
    credential = wrong.ssh_credential
    bad = Credential.objects.create(name="wrong-ssh", kind=credential.kind, username=credential.username)
    bad.secret = "not-the-password"
    bad.save()
    wrong.ssh_credential = bad
    wrong.save()
    unreachable.address = "127.93.250.250"  # nothing listens there
    unreachable.save()
    started = time.monotonic()
    result = backup_devices(region_path=region, with_tables=False)
    by_name = {r["device"]: r for r in result["devices"]}
    assert by_name[wrong.name]["status"] == "failed" and by_name[wrong.name]["code"] == "SSH_AUTH_FAILED"
    assert by_name[unreachable.name]["status"] == "failed"
    assert by_name[unreachable.name]["code"] == "SSH_UNREACHABLE"
    assert by_name[unreachable.name]["seconds"] < 3
    assert result["failed"] == 2 and result["unchanged"] == len(devices) - 2
    assert time.monotonic() - started < 15
    state = DeviceState.objects.get(device=wrong)
    assert state.backup_state == BackupState.FAILED and "SSH_AUTH_FAILED" in state.last_backup_error
    assert "not-the-password" not in json.dumps(result)


def test_backup_command_json_prints_each_device_status_and_version(backed_up):
    device = Device.objects.filter(status="active").order_by("name").first()
    out = io.StringIO()
    call_command("backup", "--json", "--device", device.name, "--no-tables", stdout=out)
    document = json.loads(out.getvalue())
    assert {"changed", "unchanged", "failed", "devices", "seconds"} <= set(document)
    assert document["unchanged"] == 1 and document["changed"] == document["failed"] == 0
    (row,) = document["devices"]
    assert row["device"] == device.name and row["status"] == "unchanged"
    assert row["version"] == ConfigVersion.objects.filter(device=device).latest().pk


def test_unknown_platform_fails_the_device_with_a_stable_code(backed_up):
    device = Device.objects.filter(status="active").order_by("name").first()
    Device.objects.filter(pk=device.pk).update(platform="junos")
    result = backup_devices(device_name=device.name, with_tables=False)
    assert result["devices"][0]["code"] == "PLATFORM_UNKNOWN"
    with pytest.raises(Exception, match="PLATFORM_UNKNOWN"):
        platforms.driver_for("junos")
