"""A finding's remediation, pushed to the lab device through its platform's driver, makes the rule pass on the
next backup (by hand through the driver until the change pipeline takes it). Each test puts the device back."""

import pytest

import platforms
from collectors.services.backup import backup_devices
from collectors.services.hostkeys import connection_info
from inventory.models import Device
from policies.models import RuleResult

pytestmark = pytest.mark.lab

# One planted fault per platform and rule kind (the lab's answer file names them: lab.ssh.configs.FAULT_RULES).
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


@pytest.mark.parametrize("fault, rule", CASES, ids=[c[0] for c in CASES])
def test_pushing_the_remediation_makes_the_rule_pass_on_the_next_backup(lab_inventory, fault, rule):
    cases = planted(lab_inventory, fault)
    assert cases, f"the lab plants {fault} somewhere"
    for slug, name in cases:
        assert backup_devices(device_name=name, with_tables=False)["failed"] == 0
        result = RuleResult.objects.get(device__name=name, rule=rule)
        assert result.status == "fail" and result.remediation, (name, rule)
        device = Device.objects.select_related("ssh_credential", "ssh_host_key").get(name=name)
        with platforms.open_driver(slug, connection_info(device)) as driver:
            original = driver.running_config()
            driver.load_merge_candidate(config=result.remediation)
            driver.commit_config(message=f"remediate {rule}")
        try:
            assert backup_devices(device_name=name, with_tables=False)["changed"] == 1
            assert RuleResult.objects.get(device__name=name, rule=rule).status == "pass", (name, rule)
        finally:
            with platforms.open_driver(slug, connection_info(device)) as driver:
                driver.load_replace_candidate(config=original)
                driver.commit_config(message="restore the planted fault")
