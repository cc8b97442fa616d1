"""The lab's SSH devices: one asyncssh listener per device on its own 127.x.y.z address, all in one process.

Password authentication with the topology's SSH_USERNAME / SSH_PASSWORD (anything else is refused); one
host key shared by every device and kept under the state directory so reconnects see the same key.  A session
is a PTY shell (what netmiko opens) or a single exec command.  The vendor CLI echoes what is typed, answers
each line and prints the prompt; device state (running config, commits, saved config, flash files) lives in
memory for the life of the process and is created on a device's first login.

Rollback timers of unconfirmed changes (VRP8 `commit trial`, Comware `configuration commit delay`, IOS
`configure terminal revert timer`) run on this process's event loop, so they fire with no session open;
`timer_scale` multiplies their durations (`python -m lab.ssh --timer-scale 0.05` in the tests).

Each device honours its management plane (lab/ssh/management.py): after every command the running config is read
for the VTY and SNMP ACLs, shut interfaces and whether management is cut, and published to
`<state-dir>/mgmt/<device>.json` for the SNMP agents.  A client the VTY ACL refuses (or any client of a device cut
off) has its TCP connection closed before the SSH banner; cutting management drops every open session of the
device right after the command's output.  The lab-only `lab-fault` command injects session drops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import asyncssh

from lab.snmp.management import Plane
from lab.ssh import management
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
    """Device states by name, created lazily, and what reaches each device (its management plane)."""

    def __init__(self, topology: Topology, timer_scale: float = 1.0, state_dir: Path | str | None = None):
        if not timer_scale > 0:
            raise ValueError(f"timer_scale must be a positive number, not {timer_scale!r}")
        self.topology = topology
        self.index = LabIndex.build(topology)
        self.timer_scale = timer_scale
        self.states: dict[str, DeviceState] = {}
        self.connections: set = set()
        self.device_connections: dict[str, set] = {}
        self.documents: dict[str, dict] = {}  # the management state last read from each device's running config
        self.planes: dict[str, Plane] = {}
        self.publisher = management.Publisher(state_dir) if state_dir is not None else None

    def state(self, name: str) -> DeviceState:
        state = self.states.get(name)
        if state is None:
            state = self.states[name] = DeviceState(self.index.devices[name], self.index,
                                                    timer_scale=self.timer_scale)
            state.on_change = lambda name=name: self.refresh(name)
        return state

    # -- the management plane --------------------------------------------------------------------
    def admits(self, name: str, address: str) -> bool:
        """Whether a new SSH connection from `address` gets the device's banner (VTY ACL, management not cut)."""
        if name not in self.planes:
            self.refresh(name)
        plane = self.planes.get(name)
        return plane is None or plane.admits_ssh(address)

    def refresh(self, name: str) -> None:
        """Re-read the device's management plane from its running config; publish it when it changed, and drop
        the device's sessions when management was just cut."""
        state = self.state(name)
        try:
            document = management.describe(state)
            plane = Plane.from_json(document)
        except Exception:  # an odd config must never take the device down: keep what was known
            log.exception("%s: could not read the management plane", name)
            return
        previous = self.documents.get(name)
        if document == previous:
            return
        before = self.planes.get(name)
        self.documents[name], self.planes[name] = document, plane
        if previous is None:
            return  # the baseline: no file stands for it (the SNMP agents filter nothing)
        management.log_ignored_rules(name, document)
        if self.publisher is not None:
            self.publisher.write(name, document)
        if plane.cut and not before.cut:
            log.warning("%s: management cut (%s shut down)", name, ", ".join(plane.cut))
            # After the reply being written now: the session rode over the link that just went down.
            asyncio.get_running_loop().call_soon(self.drop_connections, name)
        elif before.cut and not plane.cut:
            log.warning("%s: management restored", name)
        # The lab console's rescue: when the console can no longer log in, and no more once it can again.
        locked_out = not plane.admits_ssh(management.CONSOLE_ADDRESS)
        if locked_out != (not before.admits_ssh(management.CONSOLE_ADDRESS)):
            (management.start_rescue if locked_out else management.stop_rescue)(state)

    def drop_connections(self, name: str) -> None:
        for conn in list(self.device_connections.get(name, ())):
            conn.abort()

    def cancel_timers(self) -> None:
        for state in self.states.values():
            state.cancel_timers()


class DeviceSession(asyncssh.SSHServerSession):
    """A shell or exec session on one device: echo, line assembly, and the vendor CLI."""

    def __init__(self, lab: Lab, device_name: str, username: str, conn=None):
        self.lab = lab
        self.device_name = device_name
        self.username = username
        self.conn = conn
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
            output = self.cli.run_line(self.command)
            self.lab.refresh(self.device_name)
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
                if management.drop_due(self.cli.state, self.cli.config_mode, line):
                    log.info("%s: lab-fault drops the session at %r", self.device_name, line)
                    self.conn.abort()  # no reply, the line not applied
                    return
                self._write("\n")
                if not self._respond(line):
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
                self._write("\n")
                if not self._respond(self.cli.platform.grammar.trailer):
                    return
            elif char >= " " or char == "\t":
                self.buffer += char
                self._write(char)

    def _respond(self, line: str) -> bool:
        """Run a typed line and write its reply; False once the session is closing."""
        try:
            reply = self.cli.respond(line)
        except Exception:  # a bug in a command must not kill the device
            log.exception("%s: command %r failed", self.device_name, line)
            reply = self.cli.error_marker + "\n" + self.cli.prompt()
        self.lab.refresh(self.device_name)  # before the reply: the next SNMP request already sees the change
        self._write(reply)
        if self.cli.closed:
            self.chan.exit(0)
            return False
        return True

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
        peer = (conn.get_extra_info("peername") or ("",))[0]
        if not self.lab.admits(self.device_name, peer):
            # A VTY ACL (or a device cut off): the TCP connection closes before the SSH banner.
            log.info("%s: SSH from %s refused", self.device_name, peer)
            conn.abort()
            return
        self.lab.connections.add(conn)
        self.lab.device_connections.setdefault(self.device_name, set()).add(conn)

    def connection_lost(self, exc):
        self.lab.connections.discard(self.conn)
        self.lab.device_connections.get(self.device_name, set()).discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SSH_USERNAME and password == SSH_PASSWORD

    def session_requested(self):
        return DeviceSession(self.lab, self.device_name, self.username, self.conn)


async def start(topology: Topology, port: int = 22, shard: int = 0, shards: int = 1,
                state_dir: Path | str | None = None, lab: Lab | None = None, timer_scale: float = 1.0) -> list:
    """Start the listeners of this shard's devices (index % shards == shard); returns the servers."""
    key = host_key(state_dir)
    lab = lab or Lab(topology, timer_scale, state_dir or DEFAULT_STATE_DIR)
    if lab.publisher is not None:  # a previous run's management state must not leak into this one
        lab.publisher.reset(d.name for n, d in enumerate(topology.devices) if n % shards == shard)
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
    lab = Lab(topology, timer_scale, state_dir or DEFAULT_STATE_DIR)
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
