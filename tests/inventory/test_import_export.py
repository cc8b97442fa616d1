"""Inventory import is all or nothing, names file/line/field, and is idempotent; export round-trips."""

import textwrap

import pytest
import yaml
from django.core.management import CommandError, call_command

from inventory.models import Credential, Device, Interface, Link, Prefix, Region
from inventory.services import ImportFailed, export_devices_csv, export_document, import_file

pytestmark = pytest.mark.django_db

GOOD = textwrap.dedent("""\
    credentials:
      - {name: ssh-a, kind: ssh, username: netops, secret: "s3cret-ssh-pass"}
      - {name: snmp-a, kind: snmp, secret: "community-xyz"}
    regions:
      - {slug: city, name: 市本级, level: city}
      - {slug: nanjiang, name: 南江县, level: county, parent: city}
      - {slug: nj-t01, name: 城关镇, level: township, parent: nanjiang}
    agencies:
      - {slug: nj-gov, name: 南江县政府, region: nanjiang}
    sites:
      - {slug: nj-hub, name: 南江汇聚机房, region: nanjiang, agency: nj-gov}
      - {slug: nj-t01-office, name: 城关镇便民服务中心, region: nj-t01}
    devices:
      - name: nj-agg-1
        address: 127.20.0.1
        platform: huawei_vrp
        role: aggregation
        site: nj-hub
        ssh_credential: ssh-a
        snmp_credential: snmp-a
        interfaces:
          - {name: GigabitEthernet0/0/1, if_index: 2, speed_bps: 1000000000}
      - name: nj-t01-ar
        address: 127.20.0.2
        platform: hp_comware
        role: access
        site: nj-t01-office
        interfaces:
          - {name: GigabitEthernet1/0/1, if_index: 2, speed_bps: 100000000}
    links:
      - {a: "nj-agg-1:GigabitEthernet0/0/1", b: "nj-t01-ar:GigabitEthernet1/0/1", capacity_bps: 100000000,
         tier: county-township}
    prefixes:
      - {prefix: 10.0.0.0/8, description: extranet}
      - {prefix: 10.19.0.0/16, agency: nj-gov, site: nj-hub}
      - {prefix: 10.19.1.0/24, site: nj-t01-office}
    """)


def write(tmp_path, text, name="inventory.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_imports_everything_and_twice_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD)
    first = import_file(path).as_dict()
    assert first["created"] == {"credentials": 2, "regions": 3, "agencies": 1, "sites": 2, "devices": 2,
                                "interfaces": 2, "links": 1, "prefixes": 3}
    second = import_file(path).as_dict()
    assert second["created"] == {} and second["updated"] == {}
    assert Region.objects.get(slug="nj-t01").path == "/city/nanjiang/nj-t01/"
    assert Link.objects.count() == 1
    interface = Interface.objects.get(device__name="nj-agg-1")
    assert (interface.name, interface.if_index, interface.speed_bps) == ("GigabitEthernet0/0/1", 2, 1_000_000_000)


def test_a_changed_row_is_updated_and_reported(tmp_path):
    import_file(write(tmp_path, GOOD))
    result = import_file(write(tmp_path, GOOD.replace("127.20.0.2", "127.20.0.9"))).as_dict()
    assert result["updated"] == {"devices": 1}
    assert Device.objects.get(name="nj-t01-ar").address == "127.20.0.9"


BAD_ROWS = [
    ("unknown platform", ("platform: hp_comware", "platform: junos"), "devices[1] (nj-t01-ar) field 'platform'"),
    ("duplicate name", ("name: nj-t01-ar", "name: nj-agg-1"), "field 'name': duplicate name 'nj-agg-1'"),
    ("address not an IP", ("127.20.0.2", "127.20.0.999"), "field 'address': '127.20.0.999' is not an IP"),
    ("region missing", ("region: nj-t01}", "region: nowhere}"), "field 'region': region 'nowhere' does not exist"),
    ("parent missing", ("parent: nanjiang}", "parent: atlantis}"), "region 'atlantis' does not exist"),
    ("link to nothing", ('b: "nj-t01-ar:GigabitEthernet1/0/1"', 'b: "nj-t01-ar:Gi9/9"'), "field 'b'"),
    ("prefix not a network", ("10.19.1.0/24", "10.19.1.7/24"), "field 'prefix': not a network prefix"),
    ("ifIndex not a number", ("if_index: 2, speed_bps: 100000000", "if_index: two, speed_bps: 100000000"),
     "devices[1] (nj-t01-ar) field 'interfaces[0].if_index': 'two' is not a whole number"),
]


@pytest.mark.parametrize("case, change, expected", BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_one_bad_row_imports_nothing_and_names_the_row(tmp_path, case, change, expected):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    message = "\n".join(failure.value.errors)
    assert expected in message
    assert str(path) in message
    line = failure.value.errors[0].split(":")[1]
    assert line.isdigit() and int(line) > 1, message  # the line of the bad row, not the top of the file
    assert Device.objects.count() == 0 and Region.objects.count() == 0 and Credential.objects.count() == 0


def test_a_cycle_in_the_region_tree_is_refused(tmp_path):
    import_file(write(tmp_path, GOOD))
    cyclic = textwrap.dedent("""\
        regions:
          - {slug: a, name: A, level: township, parent: b}
          - {slug: b, name: B, level: township, parent: a}
        """)
    with pytest.raises(ImportFailed) as failure:
        import_file(write(tmp_path, cyclic, "cycle.yaml"))
    assert any("cycle" in e and "cycle.yaml:3:" in e for e in failure.value.errors), failure.value.errors
    assert not Region.objects.filter(slug__in=["a", "b"]).exists()


def test_a_device_list_imports_from_csv_and_a_bad_csv_row_names_its_line(tmp_path):
    import_file(write(tmp_path, GOOD))
    good = ("name,address,platform,role,site\n"
            "nj-t01-sw1,127.20.0.3,cisco_ios,access,nj-t01-office\n"
            "nj-t01-sw2,127.20.0.4,ruijie_os,access,nj-t01-office\n")
    assert import_file(write(tmp_path, good, "devices.csv")).created == {"devices": 2}
    bad = good + "nj-t01-sw3,not-an-ip,cisco_ios,access,nj-t01-office\n"
    with pytest.raises(ImportFailed) as failure:
        import_file(write(tmp_path, bad.replace("sw1", "sw5").replace("sw2", "sw6"), "devices.csv"))
    assert failure.value.errors == [
        f"{tmp_path / 'devices.csv'}:4: devices[2] (nj-t01-sw3) field 'address': 'not-an-ip' is not an IP address"]
    assert not Device.objects.filter(name__in=["nj-t01-sw5", "nj-t01-sw6"]).exists()


def test_the_command_reports_counts_as_json_and_errors_with_a_code(tmp_path, capsys):
    call_command("inventory", "import", str(write(tmp_path, GOOD)), "--json")
    assert '"devices": 2' in capsys.readouterr().out
    with pytest.raises(CommandError, match="INVENTORY_INVALID"):
        call_command("inventory", "import", str(write(tmp_path, GOOD.replace("huawei_vrp", "vrp"), "bad.yaml")))


def test_export_round_trips_into_an_empty_database(tmp_path, demo_inventory):
    document = export_document()
    counts = (Device.objects.count(), Interface.objects.count(), Link.objects.count(), Prefix.objects.count())
    path = write(tmp_path, yaml.safe_dump(document, allow_unicode=True), "export.yaml")
    # Secrets are not exported: the round trip keeps the existing ones.
    assert import_file(path).as_dict()["created"] == {}
    for model in (Link, Interface, Device, Prefix):
        model.objects.all().delete()
    import_file(path)
    assert (Device.objects.count(), Interface.objects.count(), Link.objects.count(),
            Prefix.objects.count()) == counts


def test_credentials_are_encrypted_at_rest_and_never_exported(tmp_path):
    import_file(write(tmp_path, GOOD))
    credential = Credential.objects.get(name="ssh-a")
    assert credential.secret == "s3cret-ssh-pass"
    assert b"s3cret-ssh-pass" not in bytes(credential.secret_encrypted)
    exported = yaml.safe_dump(export_document()) + export_devices_csv()
    assert "s3cret-ssh-pass" not in exported and "community-xyz" not in exported


def test_the_longest_prefix_names_the_owner_of_an_address(tmp_path):
    import_file(write(tmp_path, GOOD))
    assert Prefix.objects.longest_match("10.19.1.77").site.slug == "nj-t01-office"
    assert Prefix.objects.longest_match("10.19.200.1").agency.slug == "nj-gov"
    assert Prefix.objects.longest_match("10.200.0.1").prefix == "10.0.0.0/8"
    assert Prefix.objects.longest_match("192.0.2.1") is None
