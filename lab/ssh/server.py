"""The lab's SSH devices: one asyncssh listener per device on its own 127.x.y.z address, all in one process.

Password authentication with the topology's SSH_USERNAME / SSH_PASSWORD (anything else is refused); one
host key shared by every device and kept under the state directory so reconnects see the same key.  A session
is a PTY shell (what netmiko opens) or a single exec command.  The vendor CLI echoes what is typed, answers
each line and prints the prompt; device state (running config, commits, saved config, flash files) lives in
memory for the life of the process and is created on a device's first login.

Rollback timers of unconfirmed changes (VRP8 `commit trial`, Comware `configuration commit delay`, IOS
`configure terminal revert timer`) run on this process's event loop, so they fire with no session open;
`timer_scale` multiplies their durations (`python -m lab.ssh --timer-scale 0.05` in the tests).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import asyncssh

from lab.ssh.cli import cli_for
from lab.ssh.cli.base import DeviceState
from lab.ssh.configs import LabIndex
from lab.topology import SSH_PASSWORD, SSH_USERNAME, Topology

log = logging.getLogger(__name__)
DEFAULT_STATE_DIR = Path("var/lab")
HOST_KEY_FILE = "ssh_host_key"


def host_key(state_dir: Path | str | None = None) -> asyncssh.SSHKey:
    """The lab's shared host key, created once and reused (so clients' known-hosts stay valid)."""
    directory = Path(state_dir or DEFAULT_STATE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / HOST_KEY_FILE
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    tmp = path.with_suffix(".tmp")
    key.write_private_key(str(tmp))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return key


class Lab:
    """Device states by name, created lazily."""

    def __init__(self, topology: Topology, timer_scale: float = 1.0):
        if not timer_scale > 0:
            raise ValueError(f"timer_scale must be a positive number, not {timer_scale!r}")
        self.topology = topology
        self.index = LabIndex.build(topology)
        self.timer_scale = timer_scale
        self.states: dict[str, DeviceState] = {}
        self.connections: set = set()

    def state(self, name: str) -> DeviceState:
        state = self.states.get(name)
        if state is None:
            state = self.states[name] = DeviceState(self.index.devices[name], self.index,
                                                    timer_scale=self.timer_scale)
        return state

    def cancel_timers(self) -> None:
        for state in self.states.values():
            state.cancel_timers()


class DeviceSession(asyncssh.SSHServerSession):
    """A shell or exec session on one device: echo, line assembly, and the vendor CLI."""

    def __init__(self, lab: Lab, device_name: str, username: str):
        self.lab = lab
        self.device_name = device_name
        self.username = username
        self.chan = None
        self.cli = None
        self.buffer = ""
        self.last_was_cr = False
        self.pty = False
        self.command = None

    def connection_made(self, chan):
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes):
        self.pty = True
        return True

    def shell_requested(self):
        return True

    def exec_requested(self, command):
        self.command = command
        return True

    def session_started(self):
        state = self.lab.state(self.device_name)
        self.cli = cli_for(state, self.username)
        if self.command is not None:
            # One command, its output, then close (like `ssh device "show version"`).
            output = self.cli.execute(self.command)
            self._write(output + "\n")
            self.chan.exit(0)
            return
        self._write(self.cli.greeting())

    def _write(self, text: str):
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    def data_received(self, data, datatype):
        if self.cli is None or self.command is not None:
            return
        for char in data:
            if char in "\r\n":
                if char == "\n" and self.last_was_cr:
                    self.last_was_cr = False
                    continue
                self.last_was_cr = char == "\r"
                line, self.buffer = self.buffer, ""
                self._write("\n")
                try:
                    reply = self.cli.respond(line)
                except Exception:  # a bug in a command must not kill the device
                    log.exception("%s: command %r failed", self.device_name, line)
                    reply = self.cli.error_marker + "\n" + self.cli.prompt()
                self._write(reply)
                if self.cli.closed:
                    self.chan.exit(0)
                    return
                continue
            self.last_was_cr = False
            if char in "\x08\x7f":
                if self.buffer:
                    self.buffer = self.buffer[:-1]
                    self._write("\b \b")
            elif char == "\x03":  # Ctrl-C drops the line
                self.buffer = ""
                self._write("\n" + self.cli.prompt())
            elif char == "\x1a":  # Ctrl-Z: back to the top (user/privileged) view
                self.buffer = ""
                self._write("\n" + self.cli.respond(self.cli.platform.grammar.trailer))
            elif char >= " " or char == "\t":
                self.buffer += char
                self._write(char)

    def eof_received(self):
        if self.chan is not None:
            self.chan.exit(0)
        return False

    def break_received(self, msec):
        return True


class DeviceServer(asyncssh.SSHServer):
    def __init__(self, lab: Lab, device_name: str):
        self.lab = lab
        self.device_name = device_name
        self.username = ""
        self.conn = None

    def connection_made(self, conn):
        self.conn = conn
        self.lab.connections.add(conn)

    def connection_lost(self, exc):
        self.lab.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SSH_USERNAME and password == SSH_PASSWORD

    def session_requested(self):
        return DeviceSession(self.lab, self.device_name, self.username)


async def start(topology: Topology, port: int = 22, shard: int = 0, shards: int = 1,
                state_dir: Path | str | None = None, lab: Lab | None = None, timer_scale: float = 1.0) -> list:
    """Start the listeners of this shard's devices (index % shards == shard); returns the servers."""
    key = host_key(state_dir)
    lab = lab or Lab(topology, timer_scale)
    servers = []
    for number, device in enumerate(topology.devices):
        if number % shards != shard or device.status != "active":
            continue  # planned devices are ordered, not installed: nothing answers for them
        name = device.name
        server = await asyncssh.create_server(
            lambda name=name: DeviceServer(lab, name), device.address, port,
            server_host_keys=[key], line_editor=False, encoding="utf-8", keepalive_interval=0,
            login_timeout=30, reuse_address=True, allow_scp=False, agent_forwarding=False,
            x11_forwarding=False, server_version="OneNetLab")
        servers.append(server)
    log.info("lab ssh: %d devices listening on port %d (shard %d/%d)", len(servers), port, shard, shards)
    return servers


async def serve(topology: Topology, port: int = 22, shard: int = 0, shards: int = 1,
                state_dir: Path | str | None = None, timer_scale: float = 1.0) -> None:
    """Serve this shard's devices until cancelled or SIGTERM/SIGINT (rollback timers scaled by `timer_scale`)."""
    lab = Lab(topology, timer_scale)
    servers = await start(topology, port, shard, shards, state_dir, lab=lab)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (e.g. tests): cancellation stops us instead
    try:
        await stop.wait()
    finally:
        lab.cancel_timers()
        for server in servers:
            server.close()
        for conn in list(lab.connections):
            conn.close()
        await asyncio.gather(*(server.wait_closed() for server in servers), return_exceptions=True)
