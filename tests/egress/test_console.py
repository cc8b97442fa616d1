"""The Egress console page and results list: the policy, each vendor's rendered block, rogue exits with site and
agency, blocks not enforced, egress bandwidth with agency shares; scoped to the user's region; exports.

The stored configs here are the lab's generated configs as its devices print them (no SSH needed); test_lab.py
verifies the real devices' backups."""

import pytest
from django.urls import reverse
from django.utils import timezone

import platforms
from collectors.models import ConfigVersion, InterfaceSample
from egress.models import EgressResult
from egress.services.verify import verify_devices
from egress.views import KINDS
from inventory.models import Agency, Device, Interface, Link
from lab.ssh.configs import LabIndex, expected_faults, generate_config

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.egress.urlconf")]
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def verified(demo_inventory):
    topology = demo_inventory
    index = LabIndex.build(topology)
    now = timezone.now()
    for lab_device in topology.devices:
        text = platforms.get(lab_device.platform).parse(generate_config(lab_device, index)).render()
        ConfigVersion.objects.create(device=Device.objects.get(name=lab_device.name), fetched_at=now, sha256="x",
                                     text=text)
    return topology, verify_devices()


@pytest.fixture
def as_user(client, make_user):
    def login(role, region=None):
        client.force_login(make_user(f"{role}-{region or 'city'}", role, region=region))
        return client
    return login


def planted(topology, rule_prefix="egress."):
    return {(f["device"], f["rule"]) for f in expected_faults(topology) if f["rule"].startswith(rule_prefix)}


def test_the_generated_lab_configs_show_exactly_the_planted_faults(verified):
    topology, report = verified
    assert report["checked"] == len(topology.devices) and report["errors"] == []
    assert {(f["device"], f["rule"]) for f in report["findings"]} == planted(topology)


def test_a_manager_sees_the_policy_each_vendor_rogue_exits_and_missing_blocks(verified, as_user):
    topology, _ = verified
    page = as_user("manager").get(reverse("egress:index"))
    assert page.status_code == 200
    html = page.content.decode()
    for device, _rule in planted(topology):
        assert device in html
    rogue = Device.objects.select_related("site__agency").get(name="nanjiang-t02-ar")
    exits = page.context["exits"]
    assert {tuple(row[:3]) for row in exits} == {(rogue.name, rogue.site.name, rogue.site.agency.name)}
    assert {str(row[4]) for row in exits} == {str(KINDS["route"]), str(KINDS["nat"])}
    assert all("Cellular" in row[5] for row in exits)
    assert {row[0] for row in page.context["checks"]} == {"qinghe-agg-1"}
    assert [r["platform"] for r in page.context["rendered"]] == ["cisco_ios", "hp_comware", "huawei_vrp", "ruijie_os"]
    vrp = next(r for r in page.context["rendered"] if r["platform"] == "huawei_vrp")
    assert vrp["blocks"][0]["device"] == "city-egress-fw-1"
    assert "traffic-filter inbound acl" in html and "ip access-group ONENET-EGRESS in" in html
    assert "TCP 445" in html and "UDP 137" in html


def test_a_county_engineer_sees_only_their_county(verified, as_user):
    client = as_user("engineer", "nanjiang")
    page = client.get(reverse("egress:index"))
    html = page.content.decode()
    assert "nanjiang-t02-ar" in html and "qinghe-agg-1" not in html and "city-egress-fw-1" not in html
    assert all(r["blocks"][0]["placeholder"] for r in page.context["rendered"])  # the city's egress is not theirs
    assert page.context["links"] == []
    export = client.get(reverse("egress:index"), {"export": "csv", "report": "exits"}).content.decode("utf-8-sig")
    assert "nanjiang-t02-ar" in export
    listing = client.get(reverse("egress:results"), {"status": "fail"})
    assert {row["cells"][0] for row in listing.context["rows"]} == {"nanjiang-t02-ar"}
    assert client.get(reverse("egress:results"), {"q": "qinghe-agg-1"}).context["rows"] == []
    other = as_user("engineer", "qinghe").get(reverse("egress:index")).content.decode()
    assert "qinghe-agg-1" in other and "nanjiang-t02-ar" not in other


def test_results_list_filters_and_exports(verified, as_user):
    client = as_user("manager")
    rows = client.get(reverse("egress:results"), {"rule": "egress.smb-blocked", "status": "fail"}).context["rows"]
    assert [row["cells"][0] for row in rows] == ["qinghe-agg-1"]
    for kind in ("csv", "xlsx"):
        response = client.get(reverse("egress:results"), {"export": kind, "status": "fail"})
        assert response.status_code == 200
    text = client.get(reverse("egress:results"), {"export": "csv", "status": "fail"}).content.decode("utf-8-sig")
    assert "qinghe-agg-1" in text and "nanjiang-t02-ar" in text and "city-egress-fw-1" not in text
    checks = client.get(reverse("egress:index"), {"export": "csv", "report": "checks"}).content.decode("utf-8-sig")
    assert "qinghe-agg-1" in checks and "TCP 445" in checks


def test_egress_bandwidth_now_p95_and_agency_shares(verified, as_user):
    now = timezone.now()
    links = list(Link.objects.filter(tier="internet").select_related("a_interface__device"))
    assert all(link.a_interface.device.role == "egress" for link in links)
    for n, link in enumerate(links):  # the egress end: in is what comes from the internet
        InterfaceSample.objects.create(interface=link.a_interface, time=now, in_bps=400e6 * (n + 1),
                                       out_bps=100e6 * (n + 1))
    finance = Agency.objects.get(slug="finance")
    port = Interface.objects.create(device=Device.objects.get(role="egress"), name="GigabitEthernet0/0/9",
                                    description=f"{finance.name} internet access")
    InterfaceSample.objects.create(interface=port, time=now, in_bps=30e6, out_bps=120e6)
    client = as_user("manager")
    page = client.get(reverse("egress:index"))
    rows = {row.upstream: row for row in page.context["links"]}
    assert rows["isp-telecom-pe"].from_internet_bps + rows["isp-unicom-pe"].from_internet_bps == 1200e6
    assert {row.to_internet_bps for row in rows.values()} == {100e6, 200e6}
    assert all(row.p95_samples == 1 for row in rows.values())
    [share] = page.context["agencies"]
    assert share.agency == finance.name and share.share_from_internet == pytest.approx(0.1)
    assert share.share_to_internet == pytest.approx(0.1)
    export = client.get(reverse("egress:index"), {"export": "csv"}).content.decode("utf-8-sig")
    assert "isp-telecom-pe" in export and finance.name in export
    assert client.get(reverse("egress:index"), {"export": "xlsx"}).status_code == 200


def test_without_agency_interfaces_the_table_says_so(verified, as_user):
    page = as_user("manager").get(reverse("egress:index"))
    assert page.context["agencies"] == []
    assert "没有单位在出口设备上拥有独立接口" in page.content.decode()  # the console speaks zh-Hans first


def test_strings_from_configs_are_escaped(demo_inventory, as_user):
    device = Device.objects.get(name="nanjiang-hub-sw1")
    ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256="x", text=(
        f"hostname x\ninterface Cellular0/1/0\n ip address negotiated\n"
        f"ip route 0.0.0.0 0.0.0.0 Cellular0/1/0 name {HOSTILE}\n"))
    verify_devices(Device.objects.filter(pk=device.pk))
    html = as_user("manager").get(reverse("egress:index")).content.decode()
    assert "nanjiang-hub-sw1" in html and HOSTILE not in html and "&lt;script&gt;" in html


def test_a_config_that_cannot_be_read_is_one_error_for_that_device_alone(demo_inventory):
    broken, fine = Device.objects.get(name="nanjiang-hub-sw1"), Device.objects.get(name="nanjiang-t02-ar")
    for device, text in ((broken, "!\n!\nend\n"), (fine, "hostname x\nip route 0.0.0.0 0.0.0.0 Dialer1\n")):
        ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256="x", text=text)
    report = verify_devices(Device.objects.filter(pk__in=[broken.pk, fine.pk]))
    assert report["errors"] == [{"device": broken.name, "code": "EGRESS_CONFIG_UNREADABLE",
                                 "message": report["errors"][0]["message"]}]
    assert report["checked"] == 1 and report["findings"][0]["device"] == fine.name
    assert list(EgressResult.objects.filter(device=broken).values_list("rule", "status")) == [("config.parse", "error")]


def test_a_new_backup_version_is_verified_at_once(demo_inventory):
    from collectors.signals import config_changed

    device = Device.objects.get(name="nanjiang-hub-sw1")
    version = ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256="x",
                                           text="hostname x\nip route 0.0.0.0 0.0.0.0 Dialer1\n")
    config_changed.send(sender=ConfigVersion, device=device, version=version)
    result = EgressResult.objects.get(device=device, rule="egress.no-rogue-default-route")
    assert result.status == "fail" and result.config_version == version
