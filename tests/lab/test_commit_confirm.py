"""Commit with confirm on the lab's SSH devices: a change nobody confirms rolls back by itself, on a timer that
runs in the device (no session needed), in each platform's own command forms.

The session's lab (tests/conftest.py) runs its timers at 0.05 of real time: "60 seconds" and "1 minute" last 3 s.
Rollbacks are waited for by polling the device with a generous deadline, never by timing them.
"""

from __future__ import annotations

import asyncio
import re
import time

import paramiko
import pytest
from netmiko import ConnectHandler

from lab.ssh.__main__ import main as lab_ssh_main
from lab.ssh.cli.base import DeviceState
from lab.ssh.configs import LabIndex, is_switch, is_two_stage
from lab.topology import SSH_PASSWORD, SSH_USERNAME, generate

TIMER_SCALE = 0.05  # the `--timer-scale` of the session's lab (tests/conftest.py)
DEADLINE_S = 30  # how long a rollback may take to show, load included
SHOW_CONFIG = {"huawei_vrp": "display current-configuration", "hp_comware": "display current-configuration",
               "cisco_ios": "show running-config", "ruijie_os": "show running-config"}


# -- helpers --------------------------------------------------------------------------------------
def pick(topology, platform, two_stage=None, skip=0):
    """A routed (non-switch) device of the platform; `skip` picks another one so tests don't share devices."""
    devices = [d for d in topology.devices if d.platform == platform and d.status == "active" and not is_switch(d)
               and (two_stage is None or is_two_stage(d) == two_stage)]
    return devices[skip]


class Shell:
    """An interactive SSH shell (what netmiko opens), read up to the device's own prompt, so each command's
    output is exact and quick."""

    def __init__(self, device, port):
        name = re.escape(device.name)
        if device.platform in ("huawei_vrp", "hp_comware"):
            self.prompt = re.compile(rf"(<{name}>|\[[~*]?{name}(-[^\]\n]*)?\])\Z")
        else:
            self.prompt = re.compile(rf"({name}[#>]|{re.escape(device.name[:20])}\([^)\n]*\)#)\Z")
        self.client = _client(device, port)
        self.channel = self.client.invoke_shell(width=200)
        self.channel.settimeout(DEADLINE_S)
        self.last_prompt = ""
        self._read()

    def _read(self) -> str:
        buffer = ""
        deadline = time.monotonic() + DEADLINE_S
        while not self.prompt.search(buffer):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no prompt after {buffer!r}")
            buffer += self.channel.recv(65536).decode().replace("\r\n", "\n")
        self.last_prompt = self.prompt.search(buffer).group(0)
        return buffer

    def send(self, line: str) -> str:
        """The command's output, without its echo and the prompt that follows."""
        self.channel.send(line + "\n")
        text = self._read()
        lines = text.split("\n")
        return "\n".join(lines[1:-1])

    def close(self):
        self.client.close()


def _client(device, port) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # the lab's throwaway key
    client.connect(device.address, port, SSH_USERNAME, SSH_PASSWORD, timeout=DEADLINE_S, banner_timeout=DEADLINE_S,
                   auth_timeout=DEADLINE_S, look_for_keys=False, allow_agent=False)
    return client


def run(device, port, command) -> str:
    """One command in its own SSH session (`ssh device "command"`), like a poller that holds no session."""
    client = _client(device, port)
    try:
        _, stdout, _ = client.exec_command(command, timeout=DEADLINE_S)
        return stdout.read().decode().replace("\r\n", "\n")
    finally:
        client.close()


def config(device, port) -> str:
    return run(device, port, SHOW_CONFIG[device.platform])


def body(text: str) -> list[str]:
    """A config without the header lines that carry times and sizes."""
    return [line for line in text.splitlines()
            if not line.startswith(("!Last", "! Last", "! NVRAM", "Current configuration", "!Software"))]


def wait_until(check, what: str):
    """Poll `check` until it is true; fail after DEADLINE_S (a generous bound, not a timing assertion)."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {DEADLINE_S} s")
        time.sleep(0.2)


def sleep_past(started: float, nominal_seconds: int):
    """Sleep until a timer of `nominal_seconds` started at `started` would have fired, with a margin."""
    time.sleep(max(0.0, started + nominal_seconds * TIMER_SCALE + 2.0 - time.monotonic()))


def netmiko(device, port, device_type):
    return ConnectHandler(device_type=device_type, host=device.address, port=port, username=SSH_USERNAME,
                          password=SSH_PASSWORD, timeout=DEADLINE_S, conn_timeout=DEADLINE_S,
                          auth_timeout=DEADLINE_S, banner_timeout=DEADLINE_S, allow_agent=False, use_keys=False)


@pytest.fixture
def cleanup(lab, lab_ports):
    """Whatever happened, roll back a change still pending and remove the test's loopback: the lab is shared."""
    todo = []
    yield lambda device, loopback: todo.append((device, loopback))
    port = lab_ports[1]
    for device, loopback in todo:
        shell = Shell(device, port)
        try:
            if device.platform == "huawei_vrp":
                for line in ["system-view", "abort trial", f"undo interface {loopback}", "commit", "return"]:
                    shell.send(line)
            elif device.platform == "hp_comware":
                shell.send("system-view")
                if "seconds left" in shell.send("display configuration commit delay"):
                    shell.send("configuration commit delay 1")  # Comware has no abort: let it roll back soon
                    wait_until(lambda device=device: "not set" in run(device, port,
                                                                      "display configuration commit delay"),
                               "the clean-up rollback")
                shell.send(f"undo interface {loopback}")
                shell.send("return")
            else:
                for line in ["configure revert now", "configure terminal", f"no interface {loopback}", "end"]:
                    shell.send(line)
        finally:
            shell.close()


# -- Huawei VRP8: commit trial ----------------------------------------------------------------------
@pytest.mark.lab
def test_vrp8_confirmed_trial_commit_stays(lab, lab_ports, cleanup):
    device = pick(lab, "huawei_vrp", two_stage=True, skip=0)
    port = lab_ports[1]
    cleanup(device, "LoopBack171")
    conn = netmiko(device, port, "huawei_vrpv8")
    try:
        started = time.monotonic()
        output = conn.send_config_set(["interface LoopBack171", "description onenet-trial-confirmed", "quit",
                                       "commit trial 120"])
        assert "The system enters the trial configuration mode" in output
        assert "not confirmed in 120 seconds" in output
        assert re.search(r"Trial status: running, \d+ seconds left",
                         conn.send_command("display configuration trial status"))
        assert "Info: The trial configuration is confirmed." in conn.commit()
        assert conn.send_command("display configuration trial status").strip() == "Trial status: not running"
    finally:
        conn.paramiko_cleanup()
    sleep_past(started, 120)
    assert "description onenet-trial-confirmed" in config(device, port)
    assert run(device, port, "display configuration trial status").strip() == "Trial status: not running"


@pytest.mark.lab
def test_vrp8_unconfirmed_trial_rolls_back_by_itself_after_the_session_closed(lab, lab_ports, cleanup):
    device = pick(lab, "huawei_vrp", two_stage=True, skip=1)
    port = lab_ports[1]
    cleanup(device, "LoopBack172")
    before = config(device, port)
    commits_before = run(device, port, "display configuration commit list").count("+00:00")
    shell = Shell(device, port)
    try:
        for line in ["system-view", "interface LoopBack172", "description onenet-trial-unconfirmed", "quit",
                     "undo info-center loghost 10.0.250.10"]:
            shell.send(line)
        assert shell.send("commit trial 120").startswith("Info: The system enters the trial configuration mode.")
        text = shell.send("display current-configuration")
        assert "description onenet-trial-unconfirmed" in text and "info-center loghost 10.0.250.10" not in text
    finally:
        shell.close()
    wait_until(lambda: "onenet-trial-unconfirmed" not in config(device, port), "the trial rollback")
    assert body(config(device, port)) == body(before)
    assert run(device, port, "display configuration trial status").strip() == "Trial status: not running"
    # the trial's commit and the rollback are both commit points
    assert run(device, port, "display configuration commit list").count("+00:00") == commits_before + 2


@pytest.mark.lab
def test_vrp8_trial_rollback_resets_the_open_sessions_candidates(lab, lab_ports, cleanup):
    device = pick(lab, "huawei_vrp", two_stage=True, skip=2)
    port = lab_ports[1]
    cleanup(device, "LoopBack173")
    trial, other = Shell(device, port), Shell(device, port)
    try:
        for line in ["system-view", "interface LoopBack173", "description onenet-trial-candidate"]:
            other.send(line)  # another engineer's candidate, uncommitted when the timer fires
        for line in ["system-view", "interface LoopBack173", "description onenet-trial-open", "quit"]:
            trial.send(line)
        assert "trial configuration mode" in trial.send("commit trial 60")
        wait_until(lambda: "onenet-trial-open" not in config(device, port), "the trial rollback")
        for shell in (trial, other):
            assert shell.send("display configuration trial status").strip() == "Trial status: not running"
            assert shell.last_prompt == f"[~{device.name}]"  # the candidate followed the rollback
            assert shell.send("commit") == "Info: The configuration has not been changed."
    finally:
        trial.close()
        other.close()
    assert "onenet-trial" not in config(device, port)


@pytest.mark.lab
def test_vrp8_abort_trial_rolls_back_at_once(lab, lab_ports, cleanup):
    device = pick(lab, "huawei_vrp", two_stage=True, skip=3)
    port = lab_ports[1]
    cleanup(device, "LoopBack174")
    shell = Shell(device, port)
    try:
        assert shell.send("system-view").startswith("Enter system view")
        assert shell.send("abort trial") == "Error: The system is not in the trial configuration mode."
        for line in ["interface LoopBack174", "description onenet-trial-aborted", "quit"]:
            shell.send(line)
        assert "trial configuration mode" in shell.send("commit trial")  # the default, 600 seconds
        assert re.fullmatch(r"Trial status: running, \d+ seconds left",
                            shell.send("display configuration trial status").strip())
        assert "onenet-trial-aborted" in config(device, port)
        assert shell.send("abort trial").startswith("Info: ")
        assert "onenet-trial-aborted" not in config(device, port)
        assert shell.send("display configuration trial status").strip() == "Trial status: not running"
    finally:
        shell.close()


@pytest.mark.lab
def test_vrp8_trial_commit_refuses_bad_times_and_a_second_trial(lab, lab_ports, cleanup):
    device = pick(lab, "huawei_vrp", two_stage=True, skip=4)
    port = lab_ports[1]
    cleanup(device, "LoopBack175")
    shell = Shell(device, port)
    try:
        assert shell.send("display configuration trial status").strip() == "Trial status: not running"
        shell.send("system-view")
        shell.send("interface LoopBack175")
        shell.send("description onenet-trial-ranges")
        shell.send("quit")
        for bad in ("59", "65536", "0", "soon"):
            output = shell.send(f"commit trial {bad}")
            assert output.splitlines()[-1].startswith("Error: "), bad
            assert "^" in output.splitlines()[0]
        assert "onenet-trial-ranges" not in config(device, port)  # nothing was committed
        assert "not confirmed in 65535 seconds" in shell.send("commit trial 65535")
        assert shell.send("commit trial 60").startswith("Error: ")  # one trial at a time
        assert re.fullmatch(r"Trial status: running, \d+ seconds left",
                            run(device, port, "display configuration trial status").strip())
        assert shell.send("commit") == "Info: The trial configuration is confirmed."
        assert shell.send("commit") == "Info: The configuration has not been changed."
    finally:
        shell.close()
    assert "onenet-trial-ranges" in config(device, port)


@pytest.mark.lab
def test_one_stage_vrp_rejects_trial_commands(lab, lab_ports):
    device = pick(lab, "huawei_vrp", two_stage=False)
    shell = Shell(device, lab_ports[1])
    try:
        assert "Error: Unrecognized command" in shell.send("display configuration trial status")
        shell.send("system-view")
        for command in ("commit trial 60", "abort trial", "display configuration trial status"):
            assert "Error: Unrecognized command found at '^' position." in shell.send(command), command
    finally:
        shell.close()


# -- H3C Comware 7: configuration commit delay -------------------------------------------------------
@pytest.mark.lab
def test_comware_confirmed_commit_delay_stays(lab, lab_ports, cleanup):
    device = pick(lab, "hp_comware", skip=0)
    port = lab_ports[1]
    cleanup(device, "LoopBack181")
    conn = netmiko(device, port, "hp_comware")
    try:
        started = time.monotonic()
        output = conn.send_config_set(["configuration commit delay 2", "interface LoopBack181",
                                       "description onenet-delay-confirmed"])
        assert "Info: The configuration will be rolled back in 2 minute(s)" in output
        assert re.search(r"Configuration commit delay: \d+ seconds left",
                         conn.send_command("display configuration commit delay"))
        assert "Info: The configuration is committed." in conn.send_config_set(["configuration commit"])
        assert conn.send_command("display configuration commit delay").strip() == "Configuration commit delay: not set"
    finally:
        conn.paramiko_cleanup()
    sleep_past(started, 120)
    assert "description onenet-delay-confirmed" in config(device, port)


@pytest.mark.lab
def test_comware_unconfirmed_commit_delay_rolls_back_after_the_session_closed(lab, lab_ports, cleanup):
    device = pick(lab, "hp_comware", skip=1)
    port = lab_ports[1]
    cleanup(device, "LoopBack182")
    before = config(device, port)
    assert "ntp-service enable" in before
    shell = Shell(device, port)
    try:
        shell.send("system-view")
        assert shell.send("configuration commit delay 2").startswith("Info: ")
        for line in ["interface LoopBack182", "description onenet-delay-unconfirmed", "undo ntp-service enable"]:
            shell.send(line)
        text = shell.send("display current-configuration")
        assert "description onenet-delay-unconfirmed" in text and "ntp-service enable" not in text
    finally:
        shell.close()
    wait_until(lambda: "onenet-delay-unconfirmed" not in config(device, port), "the commit delay rollback")
    assert body(config(device, port)) == body(before)
    assert run(device, port, "display configuration commit delay").strip() == "Configuration commit delay: not set"


@pytest.mark.lab
def test_comware_commit_delay_status_and_ranges(lab, lab_ports, cleanup):
    device = pick(lab, "hp_comware", skip=2)
    cleanup(device, "LoopBack183")
    shell = Shell(device, lab_ports[1])
    try:
        assert shell.send("display configuration commit delay").strip() == "Configuration commit delay: not set"
        assert "% Unrecognized command" in shell.send("configuration commit delay 1")  # system view only
        shell.send("system-view")
        assert shell.send("configuration commit") == "Info: No configuration commit delay is in progress."
        for bad in ("0", "65536", "later"):
            output = shell.send(f"configuration commit delay {bad}")
            assert "% Wrong parameter found at '^' position." in output, bad
        assert "% Incomplete command" in shell.send("configuration commit delay")
        assert shell.send("display configuration commit delay").strip() == "Configuration commit delay: not set"
        assert "65535 minute(s)" in shell.send("configuration commit delay 65535")
        assert re.fullmatch(r"Configuration commit delay: \d+ seconds left",
                            run(device, lab_ports[1], "display configuration commit delay").strip())
        assert shell.send("configuration commit") == "Info: The configuration is committed."
        assert shell.send("display configuration commit delay").strip() == "Configuration commit delay: not set"
    finally:
        shell.close()


# -- Cisco IOS: configure terminal revert timer ------------------------------------------------------
@pytest.mark.lab
def test_ios_confirmed_revert_timer_change_stays(lab, lab_ports, cleanup):
    device = pick(lab, "cisco_ios", skip=0)
    port = lab_ports[1]
    cleanup(device, "Loopback191")
    conn = netmiko(device, port, "cisco_ios")
    try:
        started = time.monotonic()
        output = conn.send_config_set(["interface Loopback191", "description onenet-revert-confirmed"],
                                      config_mode_command="configure terminal revert timer 2")
        assert "Rollback Confirmed Change:" in output
        assert "Time left:" in conn.send_command("show archive config rollback timer")
        assert conn.send_command("configure confirm").strip() == ""
        assert conn.send_command("show archive config rollback timer").strip() == \
            "%No Rollback Confirmed Change pending"
    finally:
        conn.paramiko_cleanup()
    sleep_past(started, 120)
    assert "description onenet-revert-confirmed" in config(device, port)


@pytest.mark.lab
def test_ios_unconfirmed_change_reverts_after_the_session_closed(lab, lab_ports, cleanup):
    device = pick(lab, "cisco_ios", skip=1)
    port = lab_ports[1]
    cleanup(device, "Loopback192")
    before = config(device, port)
    assert "logging host 10.0.250.10" in before
    shell = Shell(device, port)
    try:
        output = shell.send("configure terminal revert timer 2")
        assert output.startswith("Rollback Confirmed Change: ")
        assert shell.last_prompt.endswith("(config)#")
        for line in ["interface Loopback192", "description onenet-revert-unconfirmed", "exit",
                     "no logging host 10.0.250.10", "end"]:
            shell.send(line)
        text = shell.send("show running-config")
        assert "description onenet-revert-unconfirmed" in text and "logging host 10.0.250.10" not in text
        status = shell.send("show archive config rollback timer")
    finally:
        shell.close()
    assert "Rollback Confirmed Change: pending" in status
    wait_until(lambda: "onenet-revert-unconfirmed" not in config(device, port), "the revert timer rollback")
    assert body(config(device, port)) == body(before)
    assert run(device, port, "show archive config rollback timer").strip() == "%No Rollback Confirmed Change pending"


@pytest.mark.lab
def test_ios_configure_revert_now_rolls_back_at_once(lab, lab_ports, cleanup):
    device = pick(lab, "cisco_ios", skip=2)
    port = lab_ports[1]
    cleanup(device, "Loopback193")
    shell = Shell(device, port)
    try:
        assert shell.send("configure revert now") == "% No Rollback Confirmed Change pending"
        shell.send("configure terminal revert timer 120")
        shell.send("interface Loopback193")
        shell.send("description onenet-revert-now")
        assert "onenet-revert-now" in config(device, port)
        assert "Rollback Done" in shell.send("do configure revert now")
        assert shell.last_prompt == f"{device.name[:20]}(config)#"  # its interface is gone with the rollback
        assert "onenet-revert-now" not in config(device, port)
        shell.send("end")
        assert shell.send("show archive config rollback timer") == "%No Rollback Confirmed Change pending"
    finally:
        shell.close()


@pytest.mark.lab
def test_ios_revert_timer_ranges_status_and_reset(lab, lab_ports, cleanup):
    device = pick(lab, "cisco_ios", skip=3)
    port = lab_ports[1]
    cleanup(device, "Loopback194")
    shell = Shell(device, port)
    try:
        assert shell.send("show archive config rollback timer") == "%No Rollback Confirmed Change pending"
        assert shell.send("configure confirm") == "% No Rollback Confirmed Change pending"
        assert shell.send("configure revert timer 5") == "% No Rollback Confirmed Change pending"
        for bad in ("0", "121", "soon"):
            output = shell.send(f"configure terminal revert timer {bad}")
            assert "% Invalid input detected at '^' marker." in output, bad
            assert shell.last_prompt == f"{device.name}#"
        started = time.monotonic()
        assert shell.send("configure terminal revert timer 2").startswith("Rollback Confirmed Change: ")
        shell.send("interface Loopback194")
        shell.send("description onenet-revert-reset")
        shell.send("end")
        assert shell.send("configure revert timer 120") == ""
        assert shell.send("configure terminal revert timer 1").startswith("% ")  # one at a time
        assert shell.last_prompt == f"{device.name}#"
        assert shell.send("configure revert timer 121").endswith("% Invalid input detected at '^' marker.")
        status = shell.send("show archive config rollback timer")
        assert "Rollback Confirmed Change: pending" in status and "Timer value: 120 minute(s)" in status
        assert re.search(r"^Time left: \d+ seconds$", status, re.M)
    finally:
        shell.close()
    sleep_past(started, 120)  # the first timer (2 minutes) would have fired by now; the reset one has not
    assert "onenet-revert-reset" in config(device, port)
    assert "Rollback Confirmed Change: pending" in run(device, port, "show archive config rollback timer")
    assert run(device, port, "configure confirm").strip() == ""
    assert run(device, port, "show archive config rollback timer").strip() == "%No Rollback Confirmed Change pending"


@pytest.mark.lab
def test_ruijie_rejects_rollback_confirmed_change_commands(lab, lab_ports):
    device = pick(lab, "ruijie_os")
    shell = Shell(device, lab_ports[1])
    try:
        for command in ("configure terminal revert timer 1", "configure confirm", "configure revert now",
                        "configure revert timer 5", "show archive config rollback timer"):
            assert "% Invalid input detected at '^' marker." in shell.send(command), command
            assert shell.last_prompt == f"{device.name}#"
    finally:
        shell.close()


# -- without SSH -------------------------------------------------------------------------------------
def test_timer_scale_multiplies_the_rollback_delay():
    topology = generate("demo", 1)
    device = next(d for d in topology.devices if is_two_stage(d))
    state = DeviceState(device, LabIndex.build(topology), timer_scale=TIMER_SCALE)

    async def scheduled_in():
        pending = state.start_revert("trial", 60, state.running, "onenet", "trial rollback")
        delay = pending.handle.when() - asyncio.get_running_loop().time()
        left = state.revert_seconds_left()
        state.confirm_revert()
        return delay, left

    delay, left = asyncio.run(scheduled_in())
    assert 0 < delay <= 60 * TIMER_SCALE
    assert left == 60  # shown in the device's own seconds
    assert state.pending is None


@pytest.mark.parametrize("scale", ["0", "-1", "nan", "inf", "fast"])
def test_lab_ssh_refuses_a_timer_scale_that_is_not_a_positive_number(scale):
    with pytest.raises(SystemExit):
        lab_ssh_main(["--timer-scale", scale])
