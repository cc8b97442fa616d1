"""Findings become changes, on the lab's devices: a failing compliance rule's remediation, approved by a second
engineer, is pushed, checked and confirmed, and the rule passes on the next backup; the egress roll-out blocks
SMB where it is missing and removes a rogue exit. Each test puts its devices back."""

import pytest

from changes.services import requests
from changes.services.producers import egress_rollout, from_findings
from collectors.services.backup import backup_devices
from egress.models import EgressResult
from policies.models import RuleResult
from tests.changes.conftest import CONFIRM_S

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

# One planted fault per rule kind, on one device per platform (the lab's answer file: lab.ssh.configs.FAULT_RULES).
CASES = [("telnet-vty", "mgmt.ssh-only"), ("no-idle-timeout", "mgmt.idle-timeout"),
         ("snmp-default-community", "snmp.no-default-community"), ("no-ntp", "ntp.configured"),
         ("no-syslog", "logging.remote-syslog")]


def planted(topology, fault):
    """The lab devices with the fault, one per platform."""
    devices = {}
    for device in topology.devices:
        if device.status == "active" and fault in device.faults:
            devices.setdefault(device.platform, device.name)
    return sorted(devices.items())


@pytest.mark.parametrize(("fault", "rule"), CASES, ids=[c[0] for c in CASES])
def test_a_failing_rule_becomes_a_change_that_makes_it_pass_on_the_next_backup(lab_inventory, engineers, put_back,
                                                                               fault, rule):
    alice, bob = engineers
    cases = planted(lab_inventory, fault)
    assert cases, f"the lab plants {fault} somewhere"
    names = [name for _, name in cases]
    for name in names:
        put_back(name)
        assert backup_devices(device_name=name, with_tables=False)["failed"] == 0
    results = list(RuleResult.objects.filter(device__name__in=names, rule=rule))
    assert {r.status for r in results} == {"fail"} and all(r.remediation for r in results)

    change = from_findings(alice, results, confirm_timeout=CONFIRM_S, pilot_size=1)
    change.refresh_from_db()
    assert (change.status, change.source, change.rules) == ("awaiting_approval", "compliance", [rule])
    assert all(task.diff for task in change.tasks.all())
    change = requests.approve(change, bob)
    outcomes = list(change.tasks.values_list("device__name", "status", "reason"))
    assert change.status == "completed", outcomes
    # The pipeline stored the confirmed config as a backup, and compliance re-ran on it ...
    assert set(RuleResult.objects.filter(device__name__in=names, rule=rule).values_list("status", flat=True)) == {
        "pass"}
    # ... and the next scheduled backup finds the same config, still passing.
    for name in names:
        assert backup_devices(device_name=name, with_tables=False)["unchanged"] == 1
    assert set(RuleResult.objects.filter(device__name__in=names, rule=rule).values_list("status", flat=True)) == {
        "pass"}


def test_the_egress_rollout_blocks_smb_and_removes_the_rogue_exit(lab_inventory, engineers, put_back):
    alice, bob = engineers
    names = sorted(d.name for d in lab_inventory.devices if {"no-smb-block", "rogue-exit"} & set(d.faults))
    assert len(names) == 2
    for name in names:
        put_back(name)
        assert backup_devices(device_name=name, with_tables=False)["failed"] == 0
    failing = set(EgressResult.objects.filter(status="fail").values_list("device__name", "rule"))
    assert {name for name, _ in failing} == set(names)

    change = requests.approve(egress_rollout(alice, confirm_timeout=CONFIRM_S), bob)
    outcomes = list(change.tasks.values_list("device__name", "status", "reason"))
    assert (change.source, change.status) == ("egress", "completed"), outcomes
    assert not EgressResult.objects.filter(device__name__in=names, status="fail").exists()
