"""Inventory import and the admin keep scope and data sound against hostile or malformed input.

A region moved by import or in the admin takes its whole subtree with it; slugs are slugs; every field is
range- and type-checked with file, line and field; the reader is bounded in size, nesting, aliases and rows.
"""

import io
import textwrap

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from inventory.models import Agency, Device, Interface, Region, Site
from inventory.services import ImportFailed, import_file, importing
from web.access import scoped

pytestmark = pytest.mark.django_db

INTERFACES = ("    interfaces:\n"
              "      - {name: Gi0/0/1, if_index: 2, speed_bps: 1000000000, description: uplink}\n"
              "      - {name: Gi0/0/2, if_index: 3, speed_bps: 1000000000}\n")
# One row per line where possible, so each hostile value sits on a line of its own and errors can name it.
BASE = textwrap.dedent("""\
    credentials:
      - {name: ssh-a, kind: ssh, username: netops, secret: s3cret-ssh}
    regions:
      - {slug: city, name: 市本级, level: city}
      - {slug: nanjiang, name: 南江县, level: county, parent: city}
      - {slug: beixi, name: 北溪县, level: county, parent: city}
    agencies:
      - {slug: nj-gov, name: 南江县政府, region: nanjiang}
    sites:
      - {slug: nj-hub, name: 南江汇聚机房, region: nanjiang, agency: nj-gov, expected: true}
    devices:
      - name: nj-agg-1
        address: 127.20.0.1
        platform: huawei_vrp
        role: aggregation
        site: nj-hub
        vendor: Huawei
        snmp_port: 161
        ssh_port: 22
        expect_polling: true
    """) + INTERFACES + textwrap.dedent("""\
    links:
      - {a: "nj-agg-1:Gi0/0/1", b: "nj-agg-1:Gi0/0/2", capacity_bps: 1000000000, tier: agency}
    prefixes:
      - {prefix: 10.19.0.0/16, site: nj-hub, description: hub}
    """)


def write(tmp_path, text, name="inventory.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_base_document_imports(tmp_path):
    assert import_file(write(tmp_path, BASE)).created["devices"] == 1


# (case, original text, hostile text, label and field the error names, what it says)
HOSTILE_FIELDS = [
    ("region slug with a slash", "slug: beixi,", "slug: nanjiang/evil,", "regions[2] (nanjiang/evil) field 'slug'",
     "is not a slug"),
    ("region slug in capitals", "slug: beixi,", "slug: Beixi,", "regions[2] (Beixi) field 'slug'", "is not a slug"),
    ("agency slug with a slash", "slug: nj-gov,", "slug: nj/gov,", "agencies[0] (nj/gov) field 'slug'",
     "is not a slug"),
    ("site slug with a slash", "slug: nj-hub,", "slug: nj-hub/x,", "sites[0] (nj-hub/x) field 'slug'",
     "is not a slug"),
    ("snmp port too high", "snmp_port: 161", "snmp_port: 70000", "devices[0] (nj-agg-1) field 'snmp_port'",
     "must be between 1 and 65535"),
    ("ssh port zero", "ssh_port: 22", "ssh_port: 0", "devices[0] (nj-agg-1) field 'ssh_port'",
     "must be between 1 and 65535"),
    ("port as a boolean", "snmp_port: 161", "snmp_port: true", "devices[0] (nj-agg-1) field 'snmp_port'",
     "must be a whole number, not true/false"),
    ("port as a fraction", "snmp_port: 161", "snmp_port: 16.5", "devices[0] (nj-agg-1) field 'snmp_port'",
     "16.5 is not a whole number"),
    ("port as a list", "snmp_port: 161", "snmp_port: [161]", "devices[0] (nj-agg-1) field 'snmp_port'",
     "must be a single value, not a list"),
    ("ifIndex zero", "if_index: 2,", "if_index: 0,", "devices[0] (nj-agg-1) field 'interfaces[0].if_index'",
     "must be between 1 and 2147483647"),
    ("ifIndex past InterfaceIndex", "if_index: 2,", "if_index: 2147483648,",
     "devices[0] (nj-agg-1) field 'interfaces[0].if_index'", "must be between 1 and 2147483647"),
    ("negative speed", "speed_bps: 1000000000, description", "speed_bps: -1, description",
     "devices[0] (nj-agg-1) field 'interfaces[0].speed_bps'", "must be between 0 and 4294967295000000"),
    ("speed past ifHighSpeed", "speed_bps: 1000000000, description", "speed_bps: 4294967295000001, description",
     "devices[0] (nj-agg-1) field 'interfaces[0].speed_bps'", "must be between 0 and 4294967295000000"),
    ("capacity zero", "capacity_bps: 1000000000", "capacity_bps: 0", "links[0] field 'capacity_bps'",
     "must be between 1 and 4294967295000000"),
    ("capacity past a 64-bit integer", "capacity_bps: 1000000000", "capacity_bps: 99999999999999999999",
     "links[0] field 'capacity_bps'", "must be between 1 and 4294967295000000"),
    ("name as a list", "- name: nj-agg-1", "- name: [a, b]", "devices[0] field 'name'",
     "must be a single value, not a list"),
    ("address as a mapping", "address: 127.20.0.1", "address: {ip: 127.20.0.1}",
     "devices[0] (nj-agg-1) field 'address'", "must be a single value, not a mapping"),
    ("platform as a list", "platform: huawei_vrp", "platform: [huawei_vrp]", "devices[0] (nj-agg-1) field 'platform'",
     "must be a single value, not a list"),
    ("vendor as true/false", "vendor: Huawei", "vendor: yes", "devices[0] (nj-agg-1) field 'vendor'",
     "must be text, not true/false (quote it)"),
    ("vendor as a date", "vendor: Huawei", "vendor: 2024-01-01", "devices[0] (nj-agg-1) field 'vendor'",
     "must be a single value, not a date"),
    ("vendor with a terminal escape", "vendor: Huawei", 'vendor: "Hua\\e[2Jwei"',
     "devices[0] (nj-agg-1) field 'vendor'", "contains control characters"),
    ("interfaces as a number", INTERFACES, "    interfaces: 5\n",
     "devices[0] (nj-agg-1) field 'interfaces'", "must be a list of mappings"),
    ("an interface as a number", "- {name: Gi0/0/2, if_index: 3, speed_bps: 1000000000}", "- 5",
     "devices[0] (nj-agg-1) field 'interfaces[1]'", "must be a mapping"),
    ("interface name as a mapping", "{name: Gi0/0/1,", "{name: {x: 1},",
     "devices[0] (nj-agg-1) field 'interfaces[0].name'", "must be a single value, not a mapping"),
    ("interface description as a list", "description: uplink}", "description: [up, link]}",
     "devices[0] (nj-agg-1) field 'interfaces[0].description'", "must be a single value, not a list"),
    ("site expected not a boolean", "expected: true}", "expected: maybe}", "sites[0] (nj-hub) field 'expected'",
     "'maybe' is not true/false"),
    ("site expected as a list", "expected: true}", "expected: [true]}", "sites[0] (nj-hub) field 'expected'",
     "must be true/false, not a list"),
    ("expect_polling as a number", "expect_polling: true", "expect_polling: 2",
     "devices[0] (nj-agg-1) field 'expect_polling'", "2 is not true/false"),
    ("secret as a list", "secret: s3cret-ssh}", "secret: [s3cret]}", "credentials[0] (ssh-a) field 'secret'",
     "must be a single value, not a list"),
    ("prefix description as a mapping", "description: hub}", "description: {a: b}}",
     "prefixes[0] (10.19.0.0/16) field 'description'", "must be a single value, not a mapping"),
    ("blank required name", "- name: nj-agg-1", '- name: "   "', "devices[0] field 'name'", "is required"),
    ("a row that is not a mapping", "  - {prefix: 10.19.0.0/16, site: nj-hub, description: hub}", "  - 10.19.0.0/16",
     "prefixes[0]", "must be a mapping"),
]


@pytest.mark.parametrize("case, original, hostile, where, message", HOSTILE_FIELDS, ids=[c[0] for c in HOSTILE_FIELDS])
def test_a_hostile_field_value_is_refused_naming_file_line_and_field(tmp_path, case, original, hostile, where,
                                                                      message):
    assert original in BASE
    text = BASE.replace(original, hostile, 1)
    line = next(n for n, content in enumerate(text.splitlines(), 1) if hostile.strip() in content)
    path = write(tmp_path, text)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_INVALID"
    expected = f"{path}:{line}: {where}: {message}"
    assert any(error.startswith(expected) for error in failure.value.errors), (expected, failure.value.errors)
    assert Region.objects.count() == 0 and Device.objects.count() == 0


def test_integer_bounds_are_inclusive(tmp_path):
    text = (BASE.replace("snmp_port: 161", "snmp_port: 65535").replace("ssh_port: 22", "ssh_port: 1")
            .replace("if_index: 2,", "if_index: 2147483647,")
            .replace("speed_bps: 1000000000, description", "speed_bps: 4294967295000000, description"))
    import_file(write(tmp_path, text))
    device = Device.objects.get(name="nj-agg-1")
    assert (device.snmp_port, device.ssh_port) == (65535, 1)
    interface = Interface.objects.get(device=device, name="Gi0/0/1")
    assert (interface.if_index, interface.speed_bps) == (2147483647, 4294967295000000)


# -- a region moved takes its subtree with it --------------------------------------------------

TREE = textwrap.dedent("""\
    regions:
      - {slug: city, name: 市本级, level: city}
      - {slug: nanjiang, name: 南江县, level: county, parent: city}
      - {slug: beixi, name: 北溪县, level: county, parent: city}
      - {slug: nj-t01, name: 城关镇, level: township, parent: nanjiang}
      - {slug: nj-t01-v01, name: 一村, level: village, parent: nj-t01}
      - {slug: nj-t01-v02, name: 二村, level: village, parent: nj-t01}
    sites:
      - {slug: v01-office, name: 一村服务站, region: nj-t01-v01}
      - {slug: v02-office, name: 二村服务站, region: nj-t01-v02}
    devices:
      - {name: v01-cpe, address: 127.20.1.1, platform: cisco_ios, role: cpe, site: v01-office}
      - {name: v02-cpe, address: 127.20.1.2, platform: cisco_ios, role: cpe, site: v02-office}
    """)
VILLAGE_DEVICES = {"v01-cpe", "v02-cpe"}


@pytest.fixture
def tree(tmp_path):
    import_file(write(tmp_path, TREE, "tree.yaml"))
    return Region.objects.in_bulk(field_name="slug")


def assert_moved_to_beixi(make_user):
    paths = dict(Region.objects.filter(slug__startswith="nj-t01").values_list("slug", "path"))
    assert paths == {"nj-t01": "/city/beixi/nj-t01/", "nj-t01-v01": "/city/beixi/nj-t01/nj-t01-v01/",
                     "nj-t01-v02": "/city/beixi/nj-t01/nj-t01-v02/"}
    old = make_user("engineer-nj", "engineer", region="nanjiang")
    new = make_user("engineer-bx", "engineer", region="beixi")
    assert not set(scoped(Device.objects.all(), old).values_list("name", flat=True)) & VILLAGE_DEVICES
    assert set(scoped(Device.objects.all(), new).values_list("name", flat=True)) == VILLAGE_DEVICES


def test_moving_a_township_by_import_moves_its_villages_out_of_the_old_county(tmp_path, tree, make_user):
    move = "regions:\n  - {slug: nj-t01, name: 城关镇, level: township, parent: beixi}\n"
    assert import_file(write(tmp_path, move, "move.yaml")).updated == {"regions": 1}
    assert_moved_to_beixi(make_user)
    # Importing the whole tree again (the township back under Nanjiang) moves the villages back too.
    import_file(write(tmp_path, TREE, "tree.yaml"))
    assert Region.objects.get(slug="nj-t01-v02").path == "/city/nanjiang/nj-t01/nj-t01-v02/"


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", "admin", superuser=True))
    return client


def region_form(region: Region, **changes) -> dict:
    data = {"slug": region.slug, "name": region.name, "level": region.level,
            "parent": region.parent_id or "", "_save": "Save"}
    return {**data, **changes}


def test_moving_a_township_in_the_admin_moves_its_villages_out_of_the_old_county(admin_client, tree, make_user):
    township = tree["nj-t01"]
    response = admin_client.post(f"/admin/inventory/region/{township.pk}/change/",
                                 region_form(township, parent=tree["beixi"].pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_moved_to_beixi(make_user)


def test_the_admin_refuses_to_put_a_region_under_its_own_descendant(admin_client, tree):
    county = tree["nanjiang"]
    before = dict(Region.objects.values_list("slug", "path"))
    response = admin_client.post(f"/admin/inventory/region/{county.pk}/change/",
                                 region_form(county, parent=tree["nj-t01-v01"].pk))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["parent"]] == ["region_cycle"]
    assert dict(Region.objects.values_list("slug", "path")) == before


def test_the_admin_refuses_a_parent_of_the_wrong_level(admin_client, tree):
    village = tree["nj-t01-v01"]
    response = admin_client.post(f"/admin/inventory/region/{village.pk}/change/",
                                 region_form(village, parent=tree["beixi"].pk))
    assert response.status_code == 200
    assert [e.code for e in response.context["adminform"].form.errors.as_data()["parent"]] == ["region_level"]
    assert Region.objects.get(slug="nj-t01-v01").path == "/city/nanjiang/nj-t01/nj-t01-v01/"


@pytest.mark.parametrize("model, url, data", [
    (Region, "/admin/inventory/region/add/", lambda t: {"name": "邪恶县", "level": "county", "parent": t["city"].pk}),
    (Agency, "/admin/inventory/agency/add/", lambda t: {"name": "邪恶局", "region": t["nanjiang"].pk}),
    (Site, "/admin/inventory/site/add/", lambda t: {"name": "邪恶站", "region": t["nanjiang"].pk, "expected": "on"}),
], ids=["region", "agency", "site"])
@pytest.mark.parametrize("slug", ["nanjiang/evil", "Nanjiang-evil"])
def test_the_admin_refuses_a_slug_that_is_not_a_lowercase_slug(admin_client, tree, model, url, data, slug):
    count = model.objects.count()
    response = admin_client.post(url, {"slug": slug, **data(tree), "_save": "Save"})
    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert model.objects.count() == count


def test_a_region_saved_through_the_orm_moves_its_subtree_and_refuses_a_slash(tree):
    township = tree["nj-t01"]
    township.parent = tree["beixi"]
    township.save()
    assert Region.objects.get(slug="nj-t01-v01").path == "/city/beixi/nj-t01/nj-t01-v01/"
    township.slug = "beixi/evil"
    with pytest.raises(ValidationError):
        township.save()
    assert Region.objects.get(slug="nj-t01").path == "/city/beixi/nj-t01/"


def device_form(device: Device, **changes) -> dict:
    data = {"name": device.name, "address": device.address, "platform": device.platform, "role": device.role,
            "site": device.site_id, "status": device.status, "snmp_port": 161, "ssh_port": 22,
            "expect_polling": "on", "expect_backup": "on", "interfaces-TOTAL_FORMS": 1,
            "interfaces-INITIAL_FORMS": 0, "interfaces-0-name": "Gi0/1", "interfaces-0-if_index": 1,
            "interfaces-0-speed_bps": 1000, "_save": "Save"}
    return {**data, **changes}


@pytest.mark.parametrize("field, value", [("snmp_port", "70000"), ("ssh_port", "0")])
def test_the_admin_refuses_a_port_outside_1_to_65535(admin_client, tree, field, value):
    device = Device.objects.get(name="v01-cpe")
    response = admin_client.post(f"/admin/inventory/device/{device.pk}/change/", device_form(device, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    device.refresh_from_db()
    assert (device.snmp_port, device.ssh_port) == (161, 22)


@pytest.mark.parametrize("field, value", [("if_index", "0"), ("if_index", "2147483648"), ("speed_bps", "-1"),
                                          ("speed_bps", "4294967295000001")])
def test_the_admin_refuses_an_interface_number_outside_its_snmp_range(admin_client, tree, field, value):
    device = Device.objects.get(name="v01-cpe")
    response = admin_client.post(f"/admin/inventory/device/{device.pk}/change/",
                                 device_form(device, **{f"interfaces-0-{field}": value}))
    assert response.status_code == 200
    assert field in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not Interface.objects.filter(device=device).exists()


def test_the_admin_saves_a_device_within_every_range(admin_client, tree):
    device = Device.objects.get(name="v01-cpe")
    response = admin_client.post(f"/admin/inventory/device/{device.pk}/change/", device_form(
        device, snmp_port=65535, **{"interfaces-0-if_index": 2147483647, "interfaces-0-speed_bps": 4294967295000000}))
    assert response.status_code == 302
    assert Interface.objects.get(device=device).if_index == 2147483647


# -- bounded reading ---------------------------------------------------------------------------

ALIAS_BOMB = textwrap.dedent("""\
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    devices: [*i]
    """)
MERGE_KEY = textwrap.dedent("""\
    devices:
      - &defaults {name: a, address: 127.20.0.1, platform: cisco_ios, role: cpe, site: nj-hub}
      - {<<: *defaults, name: b, address: 127.20.0.2}
    """)


@pytest.mark.parametrize("text, line", [(ALIAS_BOMB, 2), (MERGE_KEY, 3)], ids=["alias bomb", "merge key"])
def test_yaml_aliases_are_refused_with_their_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_INVALID"
    assert failure.value.errors[0].startswith(f"{path}:{line}: ") and "alias" in failure.value.errors[0]


# (case, file text, code, line, what the error says)
MALFORMED_FILES = [
    ("nesting past the bound", "devices: " + "[" * 5000 + "]" * 5000 + "\n", "INVENTORY_INVALID", 1,
     "nested deeper than"),
    ("a control character in the text", "regions:\n  - {slug: city, name: \x01, level: city}\n",
     "INVENTORY_INVALID", 2, "not valid YAML"),
    ("a number too long to read", "devices:\n  - {name: a, snmp_port: " + "9" * 5000 + "}\n",
     "INVENTORY_INVALID", 2, "not valid YAML"),
    ("a date that does not exist", "devices:\n  - {name: a, vendor: 2024-13-45}\n", "INVENTORY_INVALID", 2,
     "not valid YAML"),
    ("keys of mixed types", "1: x\nfoo: y\n", "INVENTORY_INVALID", 1, "unknown section(s) 1, foo"),
    ("a section that is not a list", "devices: 5\n", "INVENTORY_INVALID", 1, "section 'devices' must be a list"),
]


@pytest.mark.parametrize("case, text, code, line, message", MALFORMED_FILES, ids=[c[0] for c in MALFORMED_FILES])
def test_a_malformed_file_gets_a_clear_error_with_its_line(tmp_path, case, text, code, line, message):
    path = write(tmp_path, text)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == code
    assert failure.value.errors[0].startswith(f"{path}:{line}: "), failure.value.errors
    assert message in failure.value.errors[0]


def test_a_file_past_the_size_bound_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path, BASE + "#" * 1000 + "\n")
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_TOO_LARGE"
    assert failure.value.errors == [f"{path}: the file is larger than 1000 bytes; split it (importing is "
                                    "idempotent, so the parts can be imported one after another)"]


def test_dev_zero_is_refused_after_reading_only_up_to_the_bound():
    with pytest.raises(CommandError, match="INVENTORY_TOO_LARGE") as failure:
        call_command("inventory", "import", "/dev/zero")
    assert f"/dev/zero: the file is larger than {importing.MAX_FILE_BYTES} bytes" in str(failure.value)


def test_a_yaml_file_with_too_many_values_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_YAML_NODES", 50)
    path = write(tmp_path, BASE)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_TOO_LARGE"
    assert "more than 50 values" in failure.value.errors[0] and failure.value.errors[0].startswith(f"{path}:")


def test_a_section_with_too_many_rows_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    path = write(tmp_path, BASE)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_TOO_LARGE"
    assert failure.value.errors == [f"{path}:6: section 'regions' has more than 2 rows; split the file"]


def test_a_csv_with_too_many_rows_is_refused_without_reading_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    rows = "".join(f"d{n},127.20.2.{n},cisco_ios,cpe,nj-hub\n" for n in range(5))
    path = write(tmp_path, "name,address,platform,role,site\n" + rows, "devices.csv")
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_TOO_LARGE"
    assert failure.value.errors == [f"{path}:4: section 'devices' has more than 2 rows; split the file"]


def test_a_device_with_too_many_interfaces_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_INTERFACES_PER_DEVICE", 1)
    path = write(tmp_path, BASE)
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.code == "INVENTORY_TOO_LARGE"
    assert "devices[0] (nj-agg-1) field 'interfaces': more than 1 interfaces" in failure.value.errors[0]


def test_a_csv_with_a_utf8_bom_imports(tmp_path):
    import_file(write(tmp_path, BASE))
    csv = "\ufeffname,address,platform,role,site\nnj-sw-1,127.20.0.9,cisco_ios,access,nj-hub\n"
    assert import_file(write(tmp_path, csv, "devices.csv")).created == {"devices": 1}


@pytest.mark.parametrize("row, message", [
    ("nj-sw-1,127.20.0.9,cisco_ios,access,nj-\x00hub\n", "field 'site': contains control characters"),
    ("nj-sw-1,127.20.0.9,cisco_ios,access,\"" + "x" * 200_000 + "\"\n", "not a valid CSV line"),
    ("nj-sw-1,127.20.0.9,cisco_ios,access,nj-hub,70000\n", "field 'snmp_port': must be between 1 and 65535"),
], ids=["NUL byte", "huge field", "port out of range"])
def test_a_bad_csv_line_is_named(tmp_path, row, message):
    import_file(write(tmp_path, BASE))
    path = write(tmp_path, "name,address,platform,role,site,snmp_port\n" + row, "devices.csv")
    with pytest.raises(ImportFailed) as failure:
        import_file(path)
    assert failure.value.errors[0].startswith(f"{path}:2: ") and message in failure.value.errors[0], failure.value
    assert not Device.objects.filter(name="nj-sw-1").exists()


def test_import_errors_reach_the_terminal_without_control_characters(tmp_path):
    path = write(tmp_path, BASE.replace("- name: nj-agg-1", '- name: "\\e]0;owned\\a\\e[2J"'))
    with pytest.raises(CommandError) as failure:
        call_command("inventory", "import", str(path))
    message = str(failure.value)
    assert "INVENTORY_INVALID" in message and "\x1b" not in message and "\x07" not in message
    assert "\\x1b]0;owned" in message


def test_an_export_shows_device_control_characters_visibly_and_imports_again(tmp_path):
    import_file(write(tmp_path, BASE))
    Device.objects.filter(name="nj-agg-1").update(model="AR\x1b[2J\x9b")  # as SNMP discovery may store it
    for args in (["--format", "yaml"], ["--format", "csv"], ["--json"]):
        out = io.StringIO()
        call_command("inventory", "export", *args, stdout=out)
        assert "\x1b" not in out.getvalue() and "\x9b" not in out.getvalue(), args
    exported = tmp_path / "export.yaml"
    call_command("inventory", "export", "--output", str(exported), stdout=io.StringIO())
    assert import_file(exported).updated == {"devices": 1}
    assert Device.objects.get(name="nj-agg-1").model == "AR\\x1b[2J\\x9b"
