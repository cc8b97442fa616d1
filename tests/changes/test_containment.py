"""Containment is a change: per-platform lines for the alert's located port, hostile names refused, a dry run
against the switch's running config, approval by a second person, and an optional release that is itself a
change. The proposals the threat app kept before move onto the pipeline by a migration."""

import pytest

import platforms
from changes.models import ChangeRequest
from changes.services import ChangeError
from changes.services.producers import contain
from inventory.models import Device
from threat.models import Alert
from threat.services import ThreatError
from threat.services.alerts import ingest_alerts
from threat.services.containment import INTERFACE_NAME

pytestmark = pytest.mark.django_db

# One access switch per platform in the demo lab: (host address, switch, port).
HOSTS = {"cisco_ios": ("10.1.0.12", "ag-gov-office-sw1", "GigabitEthernet0/2"),
         "hp_comware": ("10.1.2.12", "ag-education-sw1", "GigabitEthernet1/0/2"),
         "huawei_vrp": ("10.1.5.12", "ag-public-security-sw1", "GigabitEthernet0/0/2"),
         "ruijie_os": ("10.17.0.12", "donghu-hub-sw1", "GigabitEthernet 0/2")}

EXPECTED = {
    ("huawei_vrp", "shutdown-port"): ["interface P", " shutdown"],
    ("hp_comware", "shutdown-port"): ["interface P", " shutdown"],
    ("cisco_ios", "shutdown-port"): ["interface P", " shutdown"],
    ("ruijie_os", "shutdown-port"): ["interface P", " shutdown"],
    ("huawei_vrp", "acl-block-host"): ["acl number 3900", " rule 5 deny ip source H 0", " rule 10 permit ip",
                                       "interface P", " traffic-filter inbound acl 3900"],
    ("hp_comware", "acl-block-host"): ["acl advanced 3900", " rule 5 deny ip source H 0", " rule 10 permit ip",
                                       "interface P", " packet-filter 3900 inbound"],
    ("cisco_ios", "acl-block-host"): ["ip access-list extended ONENET-CONTAIN-A", " deny ip host H any",
                                      " permit ip any any", "interface P", " ip access-group ONENET-CONTAIN-A in"],
    ("ruijie_os", "acl-block-host"): ["ip access-list extended ONENET-CONTAIN-A", " deny ip host H any",
                                      " permit ip any any", "interface P", " ip access-group ONENET-CONTAIN-A in"],
}


def located_alert(platform, port=None):
    ip, switch, real_port = HOSTS[platform]
    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": ip, "dst": "10.1.0.99", "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 1,
                    "evidence": ["x"]}], "pcap", locate=False)
    alert = Alert.objects.get(src=ip)
    alert.switch, alert.switch_port = Device.objects.get(name=switch), real_port if port is None else port
    alert.save()
    return alert


@pytest.fixture
def analyst(make_user):
    return make_user("analyst", "security")


def contain_now(alert, kind, user, **options):
    """The change, without its dry run (these switches are not running: the lab tests below push for real)."""
    from unittest import mock

    with mock.patch("changes.services.pipeline.prepare_soon"):  # no device here to dry-run against
        return contain(alert, kind, user, **options)


@pytest.mark.parametrize(("platform", "kind"), sorted(EXPECTED))
def test_containment_lines_per_platform(demo_inventory, analyst, platform, kind):
    alert = located_alert(platform)
    change = contain_now(alert, kind, analyst)
    port, host = HOSTS[platform][2], HOSTS[platform][0]
    expected = [line.replace("P", port, 1) if line.startswith("interface") else line
                for line in EXPECTED[platform, kind]]
    expected = [line.replace(" H ", f" {host} ").replace("-A", f"-{alert.pk}") for line in expected]
    task = change.tasks.get()
    assert task.lines == expected and task.device.name == HOSTS[platform][1]
    assert (change.source, change.alert, change.status) == ("containment", alert, "preparing")
    assert alert.events.filter(kind="containment", text__contains=f"change #{change.pk}").exists()


HOSTILE_PORTS = ["GigabitEthernet0/0/2\nundo shutdown", "Gi0/2; reload", "GigabitEthernet0/0/2\r\n quit", "`reboot`",
                 "GigabitEthernet0/0/2 ", "interface Vlanif1", "", "../../etc", "GigabitEthernet0/0/99",
                 "GigabitEthernet0/0/2\x00", "ＧigabitEthernet0/0/2", "GigabitEthernet0/0/2\n"]


def test_a_hostile_or_unknown_interface_name_never_reaches_a_config(demo_inventory, analyst):
    alert = located_alert("huawei_vrp")
    for hostile in HOSTILE_PORTS:
        alert.switch_port = hostile
        with pytest.raises((ThreatError, ChangeError)) as refused:
            contain_now(alert, "shutdown-port", analyst)
        assert refused.value.code in ("THREAT_BAD_INTERFACE", "THREAT_NOT_LOCATED"), hostile
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("name", ["GigabitEthernet0/0/2", "GE0/0/2", "Ten-GigabitEthernet1/0/49", "Eth-Trunk1",
                                  "GigabitEthernet 0/2", "Port-channel1.100", "Gi1/0/1"])
def test_real_interface_names_match_the_strict_pattern(name):
    assert INTERFACE_NAME.fullmatch(name)
    assert not INTERFACE_NAME.fullmatch(name + "\n")
    assert not INTERFACE_NAME.fullmatch(name + "\nshutdown")


def test_an_unlocated_alert_cannot_be_contained(demo_inventory, analyst):
    located_alert("huawei_vrp")
    alert = Alert.objects.get()
    alert.switch = None
    alert.save()
    with pytest.raises(ChangeError, match="THREAT_NOT_LOCATED"):
        contain_now(alert, "shutdown-port", analyst)


def test_an_unknown_containment_kind_is_refused(demo_inventory, analyst):
    with pytest.raises(ThreatError, match="THREAT_CONTAINMENT_UNKNOWN"):
        contain_now(located_alert("cisco_ios"), "reboot-switch", analyst)


def test_only_those_who_may_triage_and_see_the_alert_contain_it(demo_inventory, make_user):
    alert = located_alert("cisco_ios")  # a city-level agency's host
    with pytest.raises(ChangeError, match="CHANGE_NOT_ALLOWED"):
        contain_now(alert, "shutdown-port", make_user("boss", "manager"))
    with pytest.raises(ChangeError, match="CHANGE_OUT_OF_SCOPE"):
        contain_now(alert, "shutdown-port", make_user("county-analyst", "security", region="nanjiang"))
    assert not ChangeRequest.objects.exists()


def test_the_acl_number_avoids_acls_already_on_the_switch():
    vrp = platforms.get("huawei_vrp")
    tree = vrp.parse("acl number 3900\n rule 5 deny ip\n#\nacl number 3901\n#\nreturn\n")
    assert vrp.acl_for(tree, "ONENET-CONTAIN-1") == "3902"
    lines = vrp.render_host_block("GE0/0/1", "2001:db8::7", "3902")
    assert lines[0] == "acl ipv6 number 3902" and "2001:db8::7/128" in lines[1]
    assert platforms.get("cisco_ios").acl_for(tree, "ONENET-CONTAIN-1") == "ONENET-CONTAIN-1"  # named ACLs


def test_applying_to_a_config_adds_the_lines_inside_the_interface_block():
    vrp = platforms.get("huawei_vrp")
    config = ("sysname sw\n#\ninterface GigabitEthernet0/0/2\n description pc\n#\n"
              "interface GigabitEthernet0/0/3\n#\nreturn\n")
    after = vrp.parse(config).apply_lines(vrp.render_port_shutdown("GigabitEthernet0/0/2")).render()
    assert "interface GigabitEthernet0/0/2\n description pc\n shutdown\n#\ninterface GigabitEthernet0/0/3" in after
    after = vrp.parse(config).apply_lines(vrp.render_host_block("GigabitEthernet0/0/2", "10.1.1.1", "3900")).render()
    assert after.endswith("acl number 3900\n rule 5 deny ip source 10.1.1.1 0\n rule 10 permit ip\n#\nreturn")
    assert " traffic-filter inbound acl 3900" in after


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("platform", ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"])
def test_a_containment_is_dry_run_approved_pushed_and_released_later(lab_inventory, make_user, put_back, platform):
    from datetime import timedelta

    from django.utils import timezone

    from changes.services import pipeline, requests
    from tests.changes.conftest import CONFIRM_S, running_config

    analyst, engineer = make_user("analyst", "security"), make_user("bob")
    ip, switch, port = HOSTS[platform]
    put_back(switch)
    alert = located_alert(platform)
    change = contain(alert, "shutdown-port", analyst, release_after=3600, confirm_timeout=CONFIRM_S)
    change.refresh_from_db()
    task = change.tasks.get()
    assert change.status == "awaiting_approval"
    assert f"interface {port}" in task.diff and any(line.strip() == "+ shutdown" or line == "+ shutdown"
                                                     for line in task.diff.splitlines())
    with pytest.raises(ChangeError, match="CHANGE_NOT_ALLOWED"):
        requests.approve(change, analyst)  # security writes containments; an engineer approves them

    change = requests.approve(change, engineer)
    assert change.status == "completed", list(change.tasks.values_list("status", "reason"))
    alert.refresh_from_db()
    assert alert.status == "contained"
    interface = platforms.get(platform).parse(running_config(switch)).section(f"interface {port}")
    assert "shutdown" in [line.text for line in interface.children]

    release = change.release
    assert (release.status, release.source, release.approved_by) == ("approved", "release", engineer)
    assert release.run_after > timezone.now() + timedelta(minutes=59)
    assert pipeline.sweep()["started"] == 0  # not due yet
    assert pipeline.sweep(now=release.run_after + timedelta(seconds=1))["started"] == 1
    release.refresh_from_db()
    assert release.status == "completed", list(release.tasks.values_list("status", "reason"))
    interface = platforms.get(platform).parse(running_config(switch)).section(f"interface {port}")
    assert "shutdown" not in [line.text for line in interface.children]


@pytest.mark.django_db(transaction=True)
def test_a_containment_proposal_of_before_becomes_a_change_awaiting_approval(demo_inventory):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("threat", "0001_initial"), ("changes", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Proposal, Alert, Device, User = (old.get_model("threat", "ContainmentProposal"), old.get_model("threat", "Alert"),
                                     old.get_model("inventory", "Device"), old.get_model("auth", "User"))
    author = User.objects.create(username="old-analyst")
    device = Device.objects.get(name="nanjiang-t01-sw1")
    alert = Alert.objects.create(kind="eternalblue", severity="critical", source="pcap", src="10.19.1.13",
                                 first_seen="2026-05-12T08:00:00Z", last_seen="2026-05-12T08:00:00Z",
                                 region_id=device.site.region_id)
    Proposal.objects.create(alert=alert, device=device, port="GigabitEthernet0/3", kind="shutdown-port",
                            lines=["interface GigabitEthernet0/3", " shutdown"], status="approved", created_by=author)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    change = ChangeRequest.objects.get()
    assert (change.status, change.source, change.author.username, change.alert_id) == (
        "awaiting_approval", "containment", "old-analyst", alert.pk)
    assert change.tasks.get().lines == ["interface GigabitEthernet0/3", " shutdown"]
    assert change.audit.get().message == "from containment proposal #1 (approved)"
