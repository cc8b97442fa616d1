"""Compliance of the inventory: results kept per device and rule with history, waivers counted apart until they
expire, the check after every changed backup, and the commands' JSON."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import platforms
from collectors.models import ConfigVersion
from inventory.models import Device, Region
from policies.models import RuleEvent, RuleResult, Waiver
from policies.services import check_device, scores

pytestmark = pytest.mark.django_db
FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "platforms" / "fixtures"


@pytest.fixture
def device(demo_inventory):
    return Device.objects.select_related("site__region").get(name="nanjiang-agg-1")


def stored(device, text, minutes_ago=0):
    return ConfigVersion.objects.create(device=device, fetched_at=timezone.now() - timedelta(minutes=minutes_ago),
                                        sha256=str(hash(text)), text=text)


def vrp(name="running"):
    return (FIXTURES / "huawei_vrp" / f"{name}.conf").read_text()


def test_results_are_kept_once_per_device_and_rule_and_a_flip_is_an_event(device):
    stored(device, vrp(), minutes_ago=10)
    check_device(device)
    check_device(device)  # the same config again: nothing new
    result = RuleResult.objects.get(device=device, rule="mgmt.ssh-only")
    assert result.status == "fail" and [23, "protocol inbound all"] in result.evidence
    assert RuleEvent.objects.filter(device=device, rule="mgmt.ssh-only").count() == 1
    fixed = platforms.get("huawei_vrp").parse(vrp()).apply_lines(result.remediation).render()  # the fix, by hand
    stored(device, fixed)
    check_device(device)
    assert RuleResult.objects.get(device=device, rule="mgmt.ssh-only").status == "pass"
    flips = RuleEvent.objects.filter(device=device, rule="mgmt.ssh-only").order_by("time")
    assert [(e.previous, e.status) for e in flips] == [("", "fail"), ("fail", "pass")]
    assert RuleResult.objects.filter(device=device).count() == len({r.rule for r in RuleResult.objects.all()})


def test_a_waiver_counts_apart_and_the_failure_comes_back_when_it_expires(device, make_user):
    stored(device, vrp())
    check_device(device)
    owner = make_user("auditor", role="admin")
    results = RuleResult.objects.filter(device=device)
    before = {row["key"]: row for row in scores(results, "rule")}
    assert before["mgmt.ssh-only"]["fail"] == 1 and before["mgmt.ssh-only"]["score"] == 0.0
    waiver = Waiver.objects.create(rule="mgmt.ssh-only", region=Region.objects.get(slug="nanjiang"), owner=owner,
                                   reason="telnet until the new firmware",
                                   expires_at=timezone.now() + timedelta(days=1))
    during = {row["key"]: row for row in scores(results, "rule")}
    assert (during["mgmt.ssh-only"]["fail"], during["mgmt.ssh-only"]["waived"]) == (0, 1)
    assert during["mgmt.ssh-only"]["score"] is None  # nothing judged but the waived failure
    waiver.expires_at = timezone.now() - timedelta(seconds=1)
    waiver.save()
    after = {row["key"]: row for row in scores(results, "rule")}
    assert (after["mgmt.ssh-only"]["fail"], after["mgmt.ssh-only"]["waived"]) == (1, 0)


@pytest.mark.parametrize("scope", ["device", "rule", "rule-in-region", "rule-in-other-region"])
def test_a_waiver_covers_a_device_a_rule_or_a_rule_across_a_region(device, make_user, scope):
    stored(device, vrp())
    check_device(device)
    owner = make_user("auditor", role="admin")
    values = {"device": {"device": device}, "rule": {"rule": "mgmt.idle-timeout"},
              "rule-in-region": {"rule": "mgmt.idle-timeout", "region": Region.objects.get(slug="nanjiang")},
              "rule-in-other-region": {"rule": "mgmt.idle-timeout", "region": Region.objects.get(slug="zhongxin")}}
    Waiver.objects.create(owner=owner, reason="r", expires_at=timezone.now() + timedelta(days=1), **values[scope])
    covered = Waiver.objects.covering(device, "mgmt.idle-timeout").exists()
    assert covered == (scope != "rule-in-other-region")


def test_a_changed_backup_is_checked_at_once(lab_inventory):
    from collectors.services.backup import backup_devices

    name = next(d.name for d in lab_inventory.devices if d.status == "active" and "telnet-vty" in d.faults)
    assert backup_devices(device_name=name, with_tables=False)["changed"] == 1
    result = RuleResult.objects.get(device__name=name, rule="mgmt.ssh-only")
    assert result.status == "fail" and result.config_version == ConfigVersion.objects.get(device__name=name)


def test_compliance_check_prints_design_s_json_for_a_file(tmp_path):
    path = tmp_path / "r1.cfg"
    path.write_text(vrp())
    out = io.StringIO()
    call_command("compliance", "check", "--platform", "huawei_vrp", "--config", str(path), "--role", "aggregation",
                 "--json", stdout=out)
    document = json.loads(out.getvalue())
    rows = {row["rule"]: row for row in document["results"]}
    assert {"rule", "status", "severity", "evidence", "remediation"} <= set(rows["mgmt.ssh-only"])
    assert rows["mgmt.ssh-only"]["status"] == "fail" and rows["ntp.configured"]["status"] == "fail"
    assert "protocol inbound ssh" in [line.strip() for line in rows["mgmt.ssh-only"]["remediation"]]
    assert {row["status"] for row in document["results"]} <= {"pass", "fail", "not_applicable"}


def test_compliance_check_refuses_an_unknown_platform_and_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="PLATFORM_UNKNOWN"):
        call_command("compliance", "check", "--platform", "junos", "--config", __file__, stdout=io.StringIO())
    with pytest.raises(CommandError, match="CONFIG_FILE_UNREADABLE"):
        call_command("compliance", "check", "--platform", "cisco_ios", "--config", str(tmp_path / "none"),
                     stdout=io.StringIO())


def test_compliance_run_checks_the_stored_configs(device):
    stored(device, vrp())
    out = io.StringIO()
    call_command("compliance", "run", "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["devices_checked"] == 1 and document["failing"]["mgmt.ssh-only"] == 1
