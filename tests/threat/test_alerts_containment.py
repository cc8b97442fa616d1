"""Containment proposals: per-platform config lines, a diff against the real backed-up config, hostile names refused."""

import pytest

import platforms
from collectors.models import ConfigVersion
from collectors.services.backup import backup_devices
from inventory.models import Device
from threat.models import Alert, ContainmentProposal
from threat.services import ThreatError
from threat.services.alerts import ingest_alerts
from threat.services.containment import INTERFACE_NAME, propose

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


@pytest.mark.parametrize(("platform", "kind"), sorted(EXPECTED))
def test_proposal_lines_per_platform(demo_inventory, platform, kind):
    alert = located_alert(platform)
    proposal = propose(alert, kind)
    port, host = HOSTS[platform][2], HOSTS[platform][0]
    expected = [line.replace("P", port, 1) if line.startswith("interface") else line
                for line in EXPECTED[platform, kind]]
    expected = [line.replace(" H ", f" {host} ").replace("-A", f"-{alert.pk}") for line in expected]
    assert proposal.lines == expected
    assert proposal.status == "proposed" and proposal.device.name == HOSTS[platform][1]
    assert proposal.diff == ""  # no backup of this switch yet: nothing to diff against
    assert alert.events.filter(kind="containment").exists()


HOSTILE_PORTS = ["GigabitEthernet0/0/2\nundo shutdown", "Gi0/2; reload", "GigabitEthernet0/0/2\r\n quit", "`reboot`",
                 "GigabitEthernet0/0/2 ", "interface Vlanif1", "", "../../etc", "GigabitEthernet0/0/99",
                 "GigabitEthernet0/0/2\x00", "ＧigabitEthernet0/0/2", "GigabitEthernet0/0/2\n"]


def test_a_hostile_or_unknown_interface_name_never_reaches_a_config(demo_inventory):
    alert = located_alert("huawei_vrp")
    for hostile in HOSTILE_PORTS:
        alert.switch_port = hostile
        with pytest.raises(ThreatError) as refused:
            propose(alert, "shutdown-port")
        assert refused.value.code in ("THREAT_BAD_INTERFACE", "THREAT_NOT_LOCATED"), hostile
    assert not ContainmentProposal.objects.exists()


@pytest.mark.parametrize("name", ["GigabitEthernet0/0/2", "GE0/0/2", "Ten-GigabitEthernet1/0/49", "Eth-Trunk1",
                                  "GigabitEthernet 0/2", "Port-channel1.100", "Gi1/0/1"])
def test_real_interface_names_match_the_strict_pattern(name):
    assert INTERFACE_NAME.fullmatch(name)
    assert not INTERFACE_NAME.fullmatch(name + "\n")
    assert not INTERFACE_NAME.fullmatch(name + "\nshutdown")


def test_an_unlocated_alert_cannot_be_contained(demo_inventory):
    located_alert("huawei_vrp")
    alert = Alert.objects.get()
    alert.switch = None
    alert.save()
    with pytest.raises(ThreatError, match="THREAT_NOT_LOCATED"):
        propose(alert, "shutdown-port")


def test_an_unknown_containment_kind_is_refused(demo_inventory):
    with pytest.raises(ThreatError, match="THREAT_CONTAINMENT_UNKNOWN"):
        propose(located_alert("cisco_ios"), "reboot-switch")


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
@pytest.mark.parametrize("platform", ["huawei_vrp", "hp_comware", "cisco_ios"])
def test_the_diff_is_against_the_switch_s_real_backed_up_config(lab_inventory, platform):
    ip, switch, port = HOSTS[platform]
    assert backup_devices(device_name=switch)["failed"] == 0
    current = ConfigVersion.objects.filter(device__name=switch).latest().text
    assert f"interface {port}" in current
    proposal = propose(located_alert(platform), "shutdown-port")
    added = [line for line in proposal.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == [" shutdown"] or added == ["+ shutdown"]
    assert f"interface {port}" in proposal.diff
    acl = propose(Alert.objects.get(src=ip), "acl-block-host")
    assert ip in acl.diff and "deny" in acl.diff
