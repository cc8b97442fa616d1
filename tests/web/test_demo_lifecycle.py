"""`./onenet demo` stops cleanly however it is stopped: SIGTERM or SIGINT to the script stops the console, the
celery worker and beat and the lab, even when the worker has died already; nothing is left running or listening.

The demo here is the test's own: its own var/ (so its own database, broker and lab state), its own console port
and lab addresses and ports, so it never meets a developer's demo on :8000 and 127.10.x.y."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
# Settings of the CI/test environment that would take the demo out of its embedded default.
NOT_EMBEDDED = ("DATABASE_URL", "CELERY_BROKER_URL", "ONENET_DEPLOY", "ONENET_SECRET_KEY", "ONENET_CREDENTIAL_KEY",
                "ONENET_METRICS_TOKEN", "ONENET_REQUIRE_CORPUS", "DJANGO_SETTINGS_MODULE")
START_DEADLINE_S = 900  # set-up, migrations, 100 lab devices and the first tasks on a busy 2-core machine
STOP_DEADLINE_S = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_processes(var_dir: Path) -> dict[int, str]:
    """Every process the demo started (they all carry its ONENET_VAR_DIR): pid → command line."""
    marker = f"ONENET_VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return {pid: command for pid, command in found.items() if not _zombie(pid)}


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def _address(hex_address: str) -> tuple[str, int]:
    address, port = hex_address.split(":")
    return socket.inet_ntoa(bytes.fromhex(address)[::-1]), int(port, 16)


def listening(lab_prefix: str, console_port: int) -> list[tuple[str, str, int]]:
    """Sockets still listening (TCP) or bound (UDP) on the lab's addresses or the console's port."""
    left = []
    for kind in ("tcp", "udp"):
        for line in Path(f"/proc/net/{kind}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port = _address(fields[1])
            if kind == "tcp" and fields[3] != "0A":  # only LISTEN
                continue
            if address.startswith(lab_prefix) or (kind == "tcp" and port == console_port):
                left.append((kind, address, port))
    return left


def wait_for(condition, deadline_s: float, what: str, process: subprocess.Popen | None = None, log: Path = None):
    deadline = time.monotonic() + deadline_s
    while not (result := condition()):
        if process is not None and process.poll() is not None:
            pytest.fail(f"./onenet demo exited ({process.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {deadline_s} s: {what}" + (f"\n{log.read_text()[-3000:]}" if log else ""))
        time.sleep(1)
    return result


def console_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def default_stop_signals():
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_demo_stops_the_console_workers_and_lab_even_after_a_worker_died(tmp_path, stop_signal):
    var_dir = tmp_path / "var"
    console_port = free_port()
    own = os.getpid() % 50
    lab_prefix = f"127.{200 + own}."
    lab_port = 30000 + (os.getpid() % 1000) * 2 + (0 if stop_signal == signal.SIGTERM else 10000)
    env = {**{k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}, "ONENET_VAR_DIR": str(var_dir),
           "ONENET_DEMO_PORT": str(console_port), "ONENET_LAB_ADDRESS_BASE": f"{lab_prefix}0.1",
           "ONENET_LAB_SNMP_PORT": str(lab_port), "ONENET_LAB_SSH_PORT": str(lab_port + 1)}
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        # As an operator's shell starts it: SIGINT and SIGTERM at their defaults, whatever this test runner's process
        # passes on (a runner started with `&` by a script ignores SIGINT, and bash cannot trap a signal ignored on
        # entry).
        demo = subprocess.Popen(["./onenet", "demo"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=default_stop_signals)
    try:
        wait_for(lambda: console_answers(console_port), START_DEADLINE_S, "the console answers", demo, log)
        started = demo_processes(var_dir)
        commands = list(started.values())
        workers = [pid for pid, command in started.items() if "celery" in command and " worker" in command]
        assert workers and any(" beat" in c for c in commands) and any("runserver" in c for c in commands)
        assert any("lab.snmp" in c for c in commands) and any("lab.ssh" in c for c in commands)
        assert listening(lab_prefix, console_port)
        text = log.read_text()
        assert "planned device not started" in text or "planned devices not started" in text
        assert "No hostname was supplied" not in text + (var_dir / "log" / "worker.log").read_text()

        os.kill(workers[0], signal.SIGKILL)  # a worker that died on its own
        wait_for(lambda: workers[0] not in demo_processes(var_dir), 60, "the killed worker is gone")
        demo.send_signal(stop_signal)
        demo.wait(timeout=STOP_DEADLINE_S)

        deadline = time.monotonic() + 60  # a killed process's sockets close as it is reaped
        while (demo_processes(var_dir) or listening(lab_prefix, console_port)) and time.monotonic() < deadline:
            time.sleep(1)
        assert demo_processes(var_dir) == {} and listening(lab_prefix, console_port) == []
        assert "stopping the console, the workers and the lab" in log.read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in demo_processes(var_dir):  # only this test's own demo: they carry its var/
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
