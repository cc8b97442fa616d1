"""The lab's devices honour what a config change does to their management plane, for real: a VTY ACL refuses new
SSH clients, an SNMP ACL silences the agent, a shut interface is down in SNMP and in the device's tables, a shut
uplink cuts the device off (and drops its sessions) until a rollback timer or the lab console puts the config back,
and `lab-fault drop-session-after N` drops a session in the middle of a push.

Each live test takes one device per platform (tests/lab/management.py picks them), pushes with the project's
drivers or types in a raw session, and puts back what it changed: the lab is shared by the whole test session.
A test that may lock the lab's console out arms the lab console's rescue first (`lab-fault rescue-after`). The
session's lab runs its timers at 0.05 of real time; waits poll with generous deadlines.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from collectors.snmp.probe import probe
from lab.services import snmp_answers
from lab.snmp.management import Plane, PlaneFile
from lab.ssh import management
from lab.ssh.cli import cli_for
from lab.ssh.cli.base import DeviceState
from lab.ssh.configs import NMS_ACL, LabIndex, is_two_stage
from lab.topology import generate
from platforms import DriverError
from tests.lab.management import (
    DEADLINE_S,
    DENY_ACL,
    Shell,
    connect,
    cut_management_lines,
    deny_acl_lines,
    other_port,
    pick,
    push,
    reachable,
    remove_deny_acl_lines,
    restore_management_lines,
    run,
    running_config,
    shut_lines,
    shut_uplink_lines,
    snmp_acl_lines,
    snmp_silent,
    ssh_refused,
    typed,
    unshut_lines,
    unshut_uplink_lines,
    uplink,
    vty_acl_lines,
    wait_until,
)

PLATFORMS = [pytest.param("huawei_vrp", True, id="vrp8"), pytest.param("huawei_vrp", False, id="vrp5"),
             pytest.param("hp_comware", None, id="comware"), pytest.param("cisco_ios", None, id="ios"),
             pytest.param("ruijie_os", None, id="rgos")]
NATIVE_CONFIRM = [p for p in PLATFORMS if p.id in ("vrp8", "comware", "ios")]
CONFIG_MODE = {"huawei_vrp": "system-view", "hp_comware": "system-view", "cisco_ios": "configure terminal",
               "ruijie_os": "configure terminal"}
LEAVE_CONFIG = {"huawei_vrp": "return", "hp_comware": "return", "cisco_ios": "end", "ruijie_os": "end"}
DOWN_IN_TABLE = {"huawei_vrp": "*down", "hp_comware": "ADM", "cisco_ios": "administratively down",
                 "ruijie_os": "administratively down"}
LOOPBACK = {"huawei_vrp": "LoopBack231", "hp_comware": "LoopBack231", "cisco_ios": "Loopback231",
            "ruijie_os": "Loopback231"}  # the session-drop test's
RESCUE_S = 200  # nominal: 10 s at the test lab's timer scale, from the moment the console loses SSH
SAFETY_RESCUE_S = 1600  # 80 s: for a test that fails half-way, so the shared lab gets its device back
NATIVE_WAIT_S = 60  # a device's own rollback must come within this, well before the safety rescue


@pytest.fixture
def guarded(lab, lab_ports):
    """`guarded(device, rescue_s)`: the device's running config before the test, with the lab console's rescue
    armed. Afterwards: wait until the device answers SSH again, put back what a failed test may have left, disarm."""
    snmp_port, ssh_port = lab_ports
    watched = []

    def guard(device, rescue_s: int = SAFETY_RESCUE_S) -> list[str]:
        before = running_config(device, ssh_port)
        assert run(device, ssh_port, f"lab-fault rescue-after {rescue_s}").startswith("Lab fault armed")
        watched.append((device, before))
        return before

    yield guard
    for device, before in watched:
        wait_until(lambda device=device: not ssh_refused(device, ssh_port), f"{device.name} taking SSH again", 120)
        if running_config(device, ssh_port) != before:
            negate = "undo" if device.platform in ("huawei_vrp", "hp_comware") else "no"
            repair = [*restore_management_lines(device), *unshut_uplink_lines(lab, device),
                      *unshut_lines(device, other_port(lab, device)), f"{negate} interface {LOOPBACK[device.platform]}"]
            with contextlib.closing(connect(device, ssh_port)) as driver:
                push(driver, repair)
        run(device, ssh_port, "lab-fault clear")


# -- VTY and SNMP ACLs ------------------------------------------------------------------------------------------
@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_a_vty_acl_refuses_new_ssh_clients_but_not_the_open_session(lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    before = guarded(device)
    with contextlib.closing(connect(device, ssh_port)) as driver:
        push(driver, [*deny_acl_lines(device), *vty_acl_lines(device, DENY_ACL[platform])])
        assert ssh_refused(device, ssh_port)  # closed before the SSH banner
        with pytest.raises(DriverError) as refused:
            connect(device, ssh_port)
        assert refused.value.code == "SSH_UNREACHABLE"
        assert driver.get_facts()["hostname"] == device.name  # the session that pushed it keeps working
        assert not snmp_silent(device, snmp_port)  # SNMP has an ACL of its own
        push(driver, [*vty_acl_lines(device, NMS_ACL[platform]), *remove_deny_acl_lines(device)])
    assert not ssh_refused(device, ssh_port)
    connect(device, ssh_port).close()
    assert running_config(device, ssh_port) == before


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_an_snmp_acl_that_denies_the_console_silences_the_agent(lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    before = guarded(device)
    with contextlib.closing(connect(device, ssh_port)) as driver:
        push(driver, [*deny_acl_lines(device), *snmp_acl_lines(device, DENY_ACL[platform])])
        assert snmp_silent(device, snmp_port)  # the very next request after the push returned
        assert not ssh_refused(device, ssh_port)  # the VTY lines have their own ACL
        push(driver, [*snmp_acl_lines(device, NMS_ACL[platform]), *remove_deny_acl_lines(device)])
        assert snmp_answers(device.address, snmp_port, device.snmp_community, timeout=DEADLINE_S)
    assert running_config(device, ssh_port) == before


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_cut_management_lines_cut_ssh_and_snmp_and_restore_management_lines_bring_them_back(
        lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    before = guarded(device)
    with contextlib.closing(connect(device, ssh_port)) as driver:
        push(driver, cut_management_lines(device))
        assert ssh_refused(device, ssh_port) and snmp_silent(device, snmp_port)
        assert driver.get_facts()["hostname"] == device.name
        push(driver, restore_management_lines(device))
    assert reachable(device, ssh_port, snmp_port)
    assert running_config(device, ssh_port) == before


# -- interfaces --------------------------------------------------------------------------------------------------
def snmp_status(device, snmp_port: int, interface: str) -> tuple[str, str]:
    """(ifAdminStatus, ifOperStatus) of one interface, read with the project's SNMP client."""
    if_index = device.interface(interface).if_index
    rows = probe(device.address, snmp_port, device.snmp_community, timeout=2.0, retries=3, deadline=DEADLINE_S)
    row = next(r for r in rows["interfaces"] if r["ifIndex"] == if_index)
    return row["admin_status"], row["oper_status"]


def table_line(driver, device, interface: str) -> str:
    """The interface's line in the device's own interfaces brief table."""
    names = (interface, driver.platform.abbreviate_interface(interface))
    return next(line for line in driver.run(driver.interfaces_command).splitlines()
                if any(line.startswith(name + " ") for name in names))


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_a_shut_interface_is_down_in_snmp_and_in_the_device_tables(lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    port = other_port(lab, device)
    before = guarded(device)
    assert snmp_status(device, snmp_port, port) == ("up", "up")
    with contextlib.closing(connect(device, ssh_port)) as driver:
        push(driver, shut_lines(device, port))
        assert snmp_status(device, snmp_port, port) == ("down", "down")
        assert DOWN_IN_TABLE[platform] in table_line(driver, device, port)
        assert driver.get_interfaces()[port]["is_enabled"] is False
        assert reachable(device, ssh_port, snmp_port)  # not the management path
        push(driver, unshut_lines(device, port))
        assert snmp_status(device, snmp_port, port) == ("up", "up")
        assert DOWN_IN_TABLE[platform] not in table_line(driver, device, port)
        assert driver.get_interfaces()[port]["is_up"] is True
    assert running_config(device, ssh_port) == before


def _cut_the_uplink(shell: Shell, lab, device) -> None:
    """Type the uplink's shutdown in a raw session; the command that takes effect (VRP8: `commit`) answers, then
    the session drops."""
    interface, shutdown = typed(device, shut_uplink_lines(lab, device))[:2]
    shell.send(CONFIG_MODE[device.platform])
    shell.send(interface)
    if is_two_stage(device):
        shell.send(shutdown)
        shutdown = "commit"
    shell.channel.send(shutdown + "\n")
    with contextlib.suppress(EOFError):
        shell.read()  # the command's output and prompt, written before the drop


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_shutting_the_uplink_cuts_the_device_off_until_the_lab_console_rescues_it(
        lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    before = guarded(device, RESCUE_S)
    observer, pusher = Shell(device, ssh_port), Shell(device, ssh_port)
    try:
        _cut_the_uplink(pusher, lab, device)
        wait_until(lambda: pusher.dropped and observer.dropped, "every open session dropped", 10)
        assert ssh_refused(device, ssh_port)
        assert snmp_silent(device, snmp_port)
    finally:
        observer.close()
        pusher.close()
    wait_until(lambda: reachable(device, ssh_port, snmp_port), "the lab console's rescue", 60)
    assert running_config(device, ssh_port) == before


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), NATIVE_CONFIRM)
def test_a_native_commit_confirm_brings_a_cut_off_device_back_by_itself(lab, lab_ports, guarded, platform, two_stage):
    snmp_port, ssh_port = lab_ports
    device = pick(lab, platform, two_stage)
    before = guarded(device)  # the safety net only: the device's own timer comes first
    observer = Shell(device, ssh_port)
    driver = connect(device, ssh_port)
    outcome = {}

    def push_with_confirm():  # VRP8 `commit trial 180`, Comware `configuration commit delay 3`, IOS `... revert
        try:  # timer 3`: 9 s at the lab's timer scale
            push(driver, shut_uplink_lines(lab, device), revert_in=180)
        except Exception as error:  # noqa: BLE001 - the push's own session is dropped under it
            outcome["error"] = error

    pushing = threading.Thread(target=push_with_confirm, daemon=True)
    pushing.start()
    try:
        wait_until(lambda: observer.dropped, "the open session dropped", DEADLINE_S)
        assert ssh_refused(device, ssh_port)
        assert snmp_silent(device, snmp_port)
        wait_until(lambda: reachable(device, ssh_port, snmp_port), "the device's own rollback", NATIVE_WAIT_S)
    finally:
        observer.close()
        pushing.join(DEADLINE_S)
        driver.close()
    assert "error" in outcome  # the push could not finish: its session went down with the uplink
    assert running_config(device, ssh_port) == before


# -- the session-drop fault ------------------------------------------------------------------------------------
def _fault_lines(device, loopback: str) -> tuple[list[str], int]:
    """Lines typed in config mode, and N: lines[:N] are accepted, lines[N] drops the session (VRP8 commits the first
    ones, so they stay applied when its candidate dies with the session)."""
    lines = [f"interface {loopback}", "description onenet-fault-applied", *(["commit"] if is_two_stage(device) else [])]
    return [*lines, "description onenet-fault-lost"], len(lines)


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_the_session_drop_fault_drops_the_session_at_line_n_plus_one(lab, lab_ports, guarded, platform, two_stage):
    ssh_port = lab_ports[1]
    device = pick(lab, platform, two_stage)
    before = guarded(device)
    loopback = LOOPBACK[platform]
    lines, accepted = _fault_lines(device, loopback)
    assert run(device, ssh_port, f"lab-fault drop-session-after {accepted}").startswith("Lab fault armed")
    assert "drop-session-after" in run(device, ssh_port, "lab-fault")
    shell = Shell(device, ssh_port)
    try:
        shell.send(CONFIG_MODE[platform])  # typed in the exec view: not counted
        for line in lines[:accepted]:
            shell.send(line)  # each one answered with a prompt
        shell.channel.send(lines[accepted] + "\n")
        with pytest.raises(EOFError) as dropped:
            shell.read()
        echoed = str(dropped.value)
        assert lines[accepted].startswith(echoed) and "\n" not in echoed  # the typed echo at most: no reply
        assert shell.dropped
    finally:
        shell.close()
    config = running_config(device, ssh_port)
    assert " description onenet-fault-applied" in config
    assert not any("onenet-fault-lost" in line for line in config)
    assert "drop-session-after" not in run(device, ssh_port, "lab-fault")  # one-shot
    again = Shell(device, ssh_port)  # a later session is not dropped, and cleans up
    try:
        again.send(CONFIG_MODE[platform])
        again.send(("undo " if platform in ("huawei_vrp", "hp_comware") else "no ") + f"interface {loopback}")
        if two_stage:
            again.send("commit")
        again.send(LEAVE_CONFIG[platform])
    finally:
        again.close()
    assert running_config(device, ssh_port) == before


@pytest.mark.lab
@pytest.mark.parametrize(("platform", "two_stage"), PLATFORMS)
def test_lab_fault_clear_disarms_and_config_mode_does_not_know_the_command(lab, lab_ports, platform, two_stage):
    ssh_port = lab_ports[1]
    device = pick(lab, platform, two_stage)
    assert run(device, ssh_port, "lab-fault drop-session-after 0").startswith("Lab fault armed")
    assert run(device, ssh_port, "lab-fault clear").strip() == "Lab faults: cleared"
    assert run(device, ssh_port, "lab-fault").strip() == "Lab faults: none armed"
    assert run(device, ssh_port, "lab-fault explode").startswith("Usage: lab-fault")
    shell = Shell(device, ssh_port)
    try:
        shell.send(CONFIG_MODE[platform])
        refused = shell.send("lab-fault drop-session-after 0")  # a vendor error: config mode has no such command
        assert "^" in refused and ("Unrecognized" in refused or "Invalid input" in refused)
        shell.send(LEAVE_CONFIG[platform])
    finally:
        shell.close()
    assert run(device, ssh_port, "lab-fault").strip() == "Lab faults: none armed"


# -- without SSH: reading configs, the state file ----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    topology = generate("demo", 1)
    return topology, LabIndex.build(topology)


def _plane_after(demo, platform: str, lines: list[str]) -> Plane:
    """Type `lines` in config mode of a one-stage device of the platform (no SSH) and read its plane."""
    topology, index = demo
    device = next(d for d in topology.devices if d.platform == platform and not d.faults
                  and d.name in index.uplinks and not (platform == "huawei_vrp" and d.role in ("core", "egress",
                                                                                                 "aggregation")))
    state = DeviceState(device, index)
    cli = cli_for(state, "test")
    cli.respond(CONFIG_MODE[platform])
    for line in lines:
        cli.respond(line)
    return Plane.from_json(management.describe(state))


@pytest.mark.parametrize(("platform", "lines", "address", "ssh", "snmp"), [
    # the baseline admits the NMS network and the lab's console, and refuses the rest
    ("huawei_vrp", [], "127.0.0.1", True, True),
    ("huawei_vrp", [], "10.0.250.9", True, True),
    ("huawei_vrp", [], "10.9.9.9", False, False),
    ("hp_comware", [], "10.9.9.9", False, False),
    ("cisco_ios", [], "127.3.4.5", True, True),
    ("ruijie_os", [], "10.9.9.9", False, False),
    # first match on the source; no match denies; an ACL bound but not defined admits everyone
    ("huawei_vrp", ["acl number 2001", "rule 5 permit source 127.0.0.1 0", "quit", "user-interface vty 0 4",
                    "acl 2001 inbound"], "127.0.0.1", True, True),
    ("huawei_vrp", ["acl number 2001", "rule 5 permit source 127.0.0.1 0", "quit", "user-interface vty 0 4",
                    "acl 2001 inbound"], "127.0.0.2", False, True),
    ("huawei_vrp", ["acl number 2001", "rule 5 deny source 127.0.0.0 0.255.255.255", "rule 10 permit", "quit",
                    "user-interface vty 0 4", "acl 2001 inbound"], "127.0.0.1", False, True),
    ("huawei_vrp", ["user-interface vty 0 4", "acl 2555 inbound"], "10.9.9.9", True, False),
    ("huawei_vrp", ["acl number 2999", "rule 5 deny", "quit", "snmp-agent acl 2999"], "127.0.0.1", True, False),
    # a rule with conditions the lab does not evaluate is ignored: nothing else matches, so it denies
    ("huawei_vrp", ["acl number 3001", "rule 5 permit tcp source 127.0.0.1 0 destination-port eq 22", "quit",
                    "user-interface vty 0 4", "acl 3001 inbound"], "127.0.0.1", False, True),
    ("hp_comware", ["acl basic 2999", "rule 5 deny", "quit", "ssh server acl 2999"], "127.0.0.1", False, True),
    ("hp_comware", ["acl basic 2999", "rule 5 deny", "quit", "line vty 0 63", "acl 2999 inbound"], "127.0.0.1",
     False, True),
    ("cisco_ios", ["ip access-list standard MGMT", "permit host 127.0.0.1", "exit", "line vty 0 4",
                   "access-class MGMT in"], "127.0.0.1", True, True),
    ("cisco_ios", ["ip access-list standard MGMT", "permit host 127.0.0.1", "exit", "line vty 0 4",
                   "access-class MGMT in"], "127.0.0.9", False, True),
    ("ruijie_os", ["access-list 98 deny any"], "127.0.0.1", True, True),  # defined, bound nowhere
    ("ruijie_os", ["access-list 98 deny any", "line vty 0 4", "access-class 98 in"], "127.0.0.1", False, True),
])
def test_management_acls_are_evaluated_first_match_on_the_source(demo, platform, lines, address, ssh, snmp):
    plane = _plane_after(demo, platform, lines)
    assert (plane.admits_ssh(address), plane.admits_snmp(address)) == (ssh, snmp)


@pytest.mark.parametrize("platform", ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"])
def test_a_new_binding_takes_the_place_of_the_old_one(demo, platform):
    topology, index = demo
    device = next(d for d in topology.devices if d.platform == platform and not d.faults
                  and not (platform == "huawei_vrp" and d.role in ("core", "egress", "aggregation")))
    state = DeviceState(device, index)
    original = state.running.lines()
    cli = cli_for(state, "test")
    cli.respond(CONFIG_MODE[platform])
    for line in typed(device, cut_management_lines(device)):
        cli.respond(line)
    plane = Plane.from_json(management.describe(state))
    assert not plane.admits_ssh("127.0.0.1") and not plane.admits_snmp("127.0.0.1")
    assert len(plane.vty) == 1 and len(plane.snmp_communities) == 1  # replaced, not added
    for line in typed(device, restore_management_lines(device)):
        cli.respond(line)
    assert state.running.lines() == original  # in place, so the config reads as before


@pytest.mark.parametrize("lines", [
    ["acl number 2001", "rule 5 permit source 999.1.1.1 0.0.0.0", "rule 6 permit source", "rule 7 deny source x y",
     "rule 8 permit source 1.2.3.4 255.255.255.255 time-range never", "quit", "user-interface vty 0 4",
     "acl 2001 inbound", "quit", "snmp-agent community read cipher acl", "snmp-agent community write x acl",
     "snmp-agent acl", "snmp-agent acl 2001 2002"],
    ["interface GigabitEthernet0/0/1", "shutdown", "shutdown", "ip address 127.10.0.1 255.255.255.255 sub", "quit",
     "user-interface vty 0 4", "acl name \x00\u202e inbound"],
])
def test_odd_acl_lines_never_break_the_management_plane(demo, lines):
    plane = _plane_after(demo, "huawei_vrp", lines)
    assert plane.admits_ssh("127.0.0.1") in (True, False) and plane.admits_snmp("127.0.0.1") in (True, False)


def test_a_shut_uplink_cuts_and_any_other_shut_port_does_not(demo):
    topology, index = demo
    device = pick(topology, "huawei_vrp", False)
    state = DeviceState(device, index)
    cli = cli_for(state, "test")
    cli.respond("system-view")
    for line in typed(device, shut_lines(device, other_port(topology, device))):
        cli.respond(line)
    document = management.describe(state)
    assert document["shutdown"] == [other_port(topology, device)] and document["cut"] == []
    for line in typed(device, shut_uplink_lines(topology, device)):
        cli.respond(line)
    plane = Plane.from_json(management.describe(state))
    assert plane.cut == (uplink(topology, device),)
    assert not plane.admits_ssh("127.0.0.1") and not plane.admits_snmp("127.0.0.1")


def test_the_state_file_reader_sees_every_version_at_once(tmp_path):
    publisher = management.Publisher(tmp_path)
    reader = PlaneFile(tmp_path / "mgmt" / "dev-1.json")
    assert reader.current() is None  # no file: the baseline
    allow = {"version": 1, "device": "dev-1", "cut": [], "shutdown": [], "vty": [],
             "snmp_communities": [{"name": "2000", "rules": [["permit", "127.0.0.0", "0.255.255.255"]]}],
             "snmp_agent": []}
    deny = {**allow, "snmp_communities": [{"name": "2000", "rules": [["deny", "127.0.0.0", "0.255.255.255"]]}]}
    for _ in range(3):  # same size, written at once: each version is seen by the very next read
        publisher.write("dev-1", allow)
        assert reader.current().admits_snmp("127.0.0.1")
        publisher.write("dev-1", deny)
        assert not reader.current().admits_snmp("127.0.0.1")
    (tmp_path / "mgmt" / "dev-1.json").write_text("{not json")
    assert reader.current() is None  # a file that is not ours is ignored (and logged)
    publisher.write("dev-1", deny)
    (tmp_path / "mgmt" / ".dev-2.json.1.tmp").write_text("{}")
    assert publisher.reset(["dev-1", "dev-2"]) == 2  # a new run starts from the baseline
    assert reader.current() is None and not list((tmp_path / "mgmt").iterdir())
