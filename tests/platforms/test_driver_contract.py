"""Every registered driver against a lab device of its platform: reading, and the push half with commit-confirm.

The lab's devices are real SSH servers with a stateful config and their platform's own commit-confirm (VRP8
`commit trial`, Comware `configuration commit delay`, IOS `configure terminal revert timer`); the test lab
runs their timers 20 times faster (tests/conftest.py). VRP one-stage devices and RGOS have no commit-confirm
of their own: the driver's local revert timer stands in. Each test puts the device back as it found it.
"""

import time

import pytest

import platforms
from lab.ssh.configs import is_two_stage
from lab.topology import SSH_PASSWORD, SSH_USERNAME
from platforms import ConnectionInfo, DriverError

pytestmark = pytest.mark.lab

# (platform, two-stage VRP?) — VRP comes in both kinds.
KINDS = [("huawei_vrp", True), ("huawei_vrp", False), ("hp_comware", None), ("cisco_ios", None),
         ("ruijie_os", None)]
IDS = ["vrp8", "vrp5-one-stage", "comware", "ios", "rgos"]
FACT_TYPES = {"os_version": str, "uptime": float, "interface_list": list, "vendor": str, "serial_number": str,
              "model": str, "hostname": str, "fqdn": str}


def test_every_platform_slug_has_a_driver_under_test():
    assert {slug for slug, _ in KINDS} == {p.slug for p in platforms.all_platforms()}


@pytest.fixture
def device_of(lab, lab_ports):
    def pick(slug, two_stage):
        device = next(d for d in lab.devices if d.platform == slug and d.status == "active" and not d.faults
                      and (two_stage is None or is_two_stage(d) == two_stage) and d.role in ("access", "cpe",
                                                                                                 "aggregation"))
        interface = next(i.name for i in device.interfaces if i.name.startswith(("GigabitEthernet", "Ethernet")))
        info = ConnectionInfo(device.address, lab_ports[1], SSH_USERNAME, SSH_PASSWORD, device.name, timeout=20)
        return device, interface, info
    return pick


def description_of(driver, interface):
    return driver.get_interfaces()[interface]["description"]


def wait_for(check, timeout=40.0):
    """Poll until check() is true (the lab's timers fire in seconds); no assertion on how long it took."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def merge_description(driver, interface, text):
    driver.load_merge_candidate(config=[f"interface {interface}", f" description {text}"])


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_reading_returns_napalm_s_typed_results(device_of, slug, two_stage):
    device, interface, info = device_of(slug, two_stage)
    with platforms.open_driver(slug, info) as driver:
        assert driver.is_alive() == {"is_alive": True}
        facts = driver.get_facts()
        assert {key: type(value) for key, value in facts.items()} == FACT_TYPES
        assert facts["hostname"] == device.name and interface in facts["interface_list"]
        assert facts["os_version"] and facts["model"] and facts["uptime"] > 0
        assert device.name in driver.get_config()["running"]
        interfaces = driver.get_interfaces()
        assert set(interfaces[interface]) == {"is_up", "is_enabled", "description", "last_flapped", "mtu", "speed",
                                              "mac_address"}
        arp = driver.get_arp_table()
        assert arp and all(set(row) == {"interface", "mac", "ip", "age"} for row in arp)
        assert all(isinstance(row["age"], float) for row in arp)
        lldp = driver.get_lldp_neighbors()
        assert lldp and all(set(n) == {"hostname", "port"} for ns in lldp.values() for n in ns)
        assert set(lldp) <= set(interfaces)  # local ports by the names the config uses
        for row in driver.get_mac_address_table():
            assert set(row) == {"mac", "interface", "vlan", "static", "active", "moves", "last_move"}


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_a_confirmed_commit_stays(device_of, slug, two_stage):
    _, interface, info = device_of(slug, two_stage)
    with platforms.open_driver(slug, info) as driver:
        running = driver.running_config()
        merge_description(driver, interface, "onenet-contract-confirmed")
        diff = driver.compare_config()
        assert "+ description onenet-contract-confirmed" in diff.replace("+  ", "+ ")
        driver.commit_config(message="contract test", revert_in=3)
        assert driver.has_pending_commit()
        driver.confirm_commit()
        assert not driver.has_pending_commit()
        with pytest.raises(DriverError, match="DRIVER_NO_PENDING_COMMIT"):
            driver.confirm_commit()
    time.sleep(4)  # past the revert time: a confirmed commit must still be there
    with platforms.open_driver(slug, info) as driver:
        assert description_of(driver, interface) == "onenet-contract-confirmed"
        driver.load_replace_candidate(config=running)  # as it was
        driver.commit_config()


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_an_unconfirmed_commit_goes_back_by_itself(device_of, slug, two_stage):
    _, interface, info = device_of(slug, two_stage)
    driver = platforms.open_driver(slug, info)
    with driver:
        before = driver.platform.parse(driver.running_config()).lines()
        merge_description(driver, interface, "onenet-contract-unconfirmed")
        driver.commit_config(revert_in=3)
        assert description_of(driver, interface) == "onenet-contract-unconfirmed"
    # Nobody confirms, and the session that pushed is closed.

    def back():
        with platforms.open_driver(slug, info) as fresh:
            return fresh.platform.parse(fresh.running_config()).lines() == before

    assert wait_for(back), "the device did not go back to its config of before the change"


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_a_refused_line_leaves_the_device_as_it_was(device_of, slug, two_stage):
    _, interface, info = device_of(slug, two_stage)
    with platforms.open_driver(slug, info) as driver:
        before = driver.platform.parse(driver.running_config()).lines()
        driver.load_merge_candidate(config=[f"interface {interface}", " description onenet-half-change",
                                            "this-is-no-command at all"])
        with pytest.raises(DriverError, match="DRIVER_COMMIT_FAILED") as refused:
            driver.commit_config()
        assert "this-is-no-command" in str(refused.value)
        assert driver.platform.parse(driver.running_config()).lines() == before
        assert not driver.has_pending_commit()


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_a_replace_candidate_ends_as_the_intended_config(device_of, slug, two_stage):
    _, interface, info = device_of(slug, two_stage)
    with platforms.open_driver(slug, info) as driver:
        platform = driver.platform
        running = driver.running_config()
        intended = platform.parse(running).apply_lines([f"interface {interface}", " description onenet-replaced"])
        driver.load_replace_candidate(config=intended.render())
        assert "onenet-replaced" in driver.compare_config()
        driver.commit_config()
        assert platform.parse(driver.running_config()).lines() == intended.lines()
        driver.load_replace_candidate(config=running)
        driver.commit_config()
        assert platform.parse(driver.running_config()).lines() == platform.parse(running).lines()


@pytest.mark.parametrize("slug, two_stage", KINDS, ids=IDS)
def test_a_session_the_device_drops_raises_session_lost(device_of, slug, two_stage, lab_ports):
    """The lab's `lab-fault drop-session-after 1` closes the session at the second config line: the driver says so
    (SSH_SESSION_LOST) instead of waiting for a prompt that can never come; the caller settles the device."""
    from tests.lab.management import run

    device, interface, info = device_of(slug, two_stage)
    with platforms.open_driver(slug, info) as driver:
        original = driver.running_config()
    run(device, lab_ports[1], "lab-fault drop-session-after 1")
    try:
        with platforms.open_driver(slug, info) as driver:
            merge_description(driver, interface, "onenet-dropped")
            with pytest.raises(DriverError, match="SSH_SESSION_LOST"):
                driver.commit_config()
    finally:
        run(device, lab_ports[1], "lab-fault clear")
        with platforms.open_driver(slug, info) as driver:
            if driver.has_pending_commit():
                driver.rollback()
            driver.load_replace_candidate(config=original)
            driver.commit_config()
