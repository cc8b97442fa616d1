"""The `--json` contract (DESIGN, "Stable interfaces"): with `--json` every OneNet command prints exactly one JSON
document on stdout, whether it succeeds or fails (then `{"error": {"code", "message", "details"}}`); logs go to
stderr. A command that runs on and reports as it goes declares `streams_ndjson = True` (web/commands.py) and then
prints one document per line (NDJSON), each as it happens.

CASES run every command, sub-command and mode in this process, with no network device and no demo var/: an empty
or small inventory, files of the test's own, a lab or a recording on a loopback range of the test's own. The
commands that run on until stopped, and bad command lines, run as real processes (LONG_RUNNING, BAD_ARGUMENTS).
`test_every_command_sub_command_and_option_has_a_case` fails on a command, sub-command or option that no case
runs, unless SAME_OUTPUT says why the option cannot change what is printed: nothing new skips the contract (as
tests/web/test_scope.py fails on a view without a scope case).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "uqgGfjR4lZUqzUBcT5B4AwbnSAUFz4Y7h1o0o1AEBGg="


# ------------------------------------------------------------------------------------------------ the set-ups


@pytest.fixture(autouse=True)
def a_credential_key(settings):
    """The output is under test, not the checkout: a var/ not initialised yet still gives the cases a key."""
    if settings.CREDENTIAL_KEY is None:
        settings.CREDENTIAL_KEY = FERNET_KEY.encode()


@dataclass
class Context:
    tmp_path: Path
    settings: object  # pytest-django's settings fixture: every change is undone after the test
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest


def own_var_dir(ctx: Context) -> dict:
    """A var/ of the test's own, so no command writes into the working tree's."""
    var_dir = ctx.tmp_path / "var"
    var_dir.mkdir(mode=0o700, exist_ok=True)
    ctx.settings.VAR_DIR = var_dir
    return {}


def no_var_dir(ctx: Context) -> dict:
    ctx.settings.VAR_DIR = ctx.tmp_path / "not-initialised"
    return {}


def init_paths(ctx: Context) -> dict:
    """`init` makes the var/ of these settings: the test's own (the database stays the test database)."""
    var_dir = ctx.tmp_path / "var"
    ctx.settings.VAR_DIR, ctx.settings.STATIC_ROOT = var_dir, var_dir / "static"
    ctx.settings.CELERY_BROKER_URL = "filesystem://"
    celery = var_dir / "celery"
    ctx.settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(celery / "queue"), "data_folder_out": str(celery / "queue"),
        "processed_folder": str(celery / "processed"), "control_folder": str(celery / "control")}
    ctx.monkeypatch.delenv("ONENET_SECRET_KEY", raising=False)
    ctx.monkeypatch.delenv("ONENET_CREDENTIAL_KEY", raising=False)
    return {}


def shared_var_dir(ctx: Context) -> dict:
    init_paths(ctx)
    shared = ctx.tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    ctx.settings.VAR_DIR = shared
    return {}


SMALL_INVENTORY = textwrap.dedent("""\
    credentials:
      - {name: snmp-a, kind: snmp, secret: "community-xyz"}
    regions:
      - {slug: city, name: 市本级, level: city}
      - {slug: nanjiang, name: 南江县, level: county, parent: city}
    sites:
      - {slug: nj-hub, name: 南江汇聚机房, region: nanjiang}
    devices:
      - {name: nj-agg-1, address: 127.20.0.1, platform: huawei_vrp, role: aggregation, site: nj-hub,
         snmp_credential: snmp-a}
    prefixes:
      - {prefix: 10.19.0.0/16, site: nj-hub}
    """)


def inventory_file(ctx: Context) -> dict:
    path = ctx.tmp_path / "inventory.yaml"
    path.write_text(SMALL_INVENTORY, encoding="utf-8")
    return {"inventory": path}


def bad_inventory_file(ctx: Context) -> dict:
    path = ctx.tmp_path / "inventory.yaml"
    path.write_text(SMALL_INVENTORY.replace("huawei_vrp", "junos"), encoding="utf-8")
    return {"inventory": path}


def imported(ctx: Context) -> dict:
    from inventory.services import import_file

    import_file(inventory_file(ctx)["inventory"])
    return {}


def no_credential_key(ctx: Context) -> dict:
    """The embedded default before `manage.py init`: no var/credential_key, so no key."""
    ctx.settings.CREDENTIAL_KEY = None
    return {}


def imported_without_key(ctx: Context) -> dict:
    imported(ctx)
    return no_credential_key(ctx)


def inventory_file_without_key(ctx: Context) -> dict:
    no_credential_key(ctx)
    return inventory_file(ctx)


def key_files(ctx: Context) -> dict:
    """A current key and a new one; the rotation rewrites the test's own var/credential_key, never the tree's."""
    from cryptography.fernet import Fernet

    own_var_dir(ctx)
    ctx.monkeypatch.delenv("ONENET_CREDENTIAL_KEY", raising=False)
    ctx.settings.CREDENTIAL_KEY = Fernet.generate_key()
    (ctx.tmp_path / "var" / "credential_key").write_bytes(ctx.settings.CREDENTIAL_KEY)
    (ctx.tmp_path / "new.key").write_bytes(Fernet.generate_key())
    (ctx.tmp_path / "bad.key").write_text("not a key")
    return {"new_key": ctx.tmp_path / "new.key", "bad_key": ctx.tmp_path / "bad.key"}


def unreadable_credential(ctx: Context) -> dict:
    from cryptography.fernet import Fernet

    from inventory.models import Credential

    Credential.objects.create(name="saved-with-another-key", kind="snmp",
                              secret_encrypted=Fernet(Fernet.generate_key()).encrypt(b"community"))
    return {}


def run_now_sends_nothing(ctx: Context) -> dict:
    """The output is the command's; the sending would queue real tasks on the machine's broker."""
    ctx.monkeypatch.setattr("collectors.services.schedules.run_now", lambda: 0)
    return {}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port(ctx: Context) -> dict:
    return {"port": free_udp_port()}


RECORDING = textwrap.dedent("""\
    1.3.6.1.2.1.1.1.0|4|Huawei Versatile Routing Platform Software VRP (R) software, Version 5.170 S5720
    1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2011.2.23.96
    1.3.6.1.2.1.1.3.0|67|123456
    1.3.6.1.2.1.1.5.0|4|contract-sw1
    1.3.6.1.2.1.2.2.1.1.1|2|1
    1.3.6.1.2.1.2.2.1.2.1|4|GigabitEthernet0/0/1
    1.3.6.1.2.1.2.2.1.3.1|2|6
    1.3.6.1.2.1.2.2.1.5.1|66|1000000000
    1.3.6.1.2.1.2.2.1.7.1|2|1
    1.3.6.1.2.1.2.2.1.8.1|2|1
    1.3.6.1.2.1.2.2.1.10.1|65|1234
    1.3.6.1.2.1.2.2.1.16.1|65|5678
    1.3.6.1.2.1.31.1.1.1.1.1|4|GE0/0/1
    """)


def recording_file(ctx: Context) -> dict:
    path = ctx.tmp_path / "contract_sw.snmprec"
    path.write_text(RECORDING)
    return {"recording": path, "port": free_udp_port()}


def bad_recording_file(ctx: Context) -> dict:
    path = ctx.tmp_path / "broken.snmprec"
    path.write_text("1.3.6.1.2.1.1.1.0|not-a-tag|x\n")
    return {"recording": path, "port": free_udp_port()}


def serving_recording(ctx: Context) -> dict:
    """The recording served by the lab's SNMP responder on a free loopback port, for `snmpprobe` to read."""
    found = recording_file(ctx)
    responder = subprocess.Popen([sys.executable, "-m", "lab.snmp", "--snmprec", str(found["recording"]),
                                  "--address", "127.0.0.1", "--port", str(found["port"])], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True)
    ctx.request.addfinalizer(lambda: (responder.terminate(), responder.wait(10)))
    assert responder.stdout.readline().startswith("ready"), "the SNMP responder did not start"
    return {"target": f"127.0.0.1:{found['port']}", "community": found["recording"].stem}


def lab_of_its_own(ctx: Context) -> dict:
    """`lab up` on a loopback range and ports of this test's own, stopped afterwards whatever happens."""
    from lab.services import down

    own_var_dir(ctx)
    ctx.settings.LAB_ADDRESS_BASE = f"127.{200 + os.getpid() % 50}.0.1"
    ctx.settings.LAB_SNMP_PORT = 30000 + os.getpid() % 20000
    ctx.settings.LAB_SSH_PORT = ctx.settings.LAB_SNMP_PORT + 1
    ctx.request.addfinalizer(down)
    return {}


def pcap(ctx: Context) -> dict:
    from scapy.all import IP, TCP, Ether, wrpcap

    path = ctx.tmp_path / "few.pcap"
    wrpcap(str(path), [Ether() / IP(src="10.19.1.77", dst=f"10.19.1.{n}") / TCP(sport=40000 + n, dport=445,
                                                                               flags="S") for n in range(1, 4)])
    return {"pcap": path, "out": ctx.tmp_path / "out.pcap"}


def eve_file(ctx: Context) -> dict:
    path = ctx.tmp_path / "eve.json"
    alert = {"timestamp": "2017-05-12T08:00:00.000000+0000", "event_type": "alert", "src_ip": "10.19.1.77",
             "src_port": 49152, "dest_ip": "10.19.1.1", "dest_port": 445, "proto": "TCP",
             "alert": {"signature_id": 2024218, "signature": "ET EXPLOIT Possible ETERNALBLUE MS17-010 Echo Response",
                       "severity": 1, "category": "A Network Trojan was detected"}}
    path.write_text(json.dumps(alert) + "\n" + json.dumps({"event_type": "flow"}) + "\n{not json\n")
    return {"eve": path}


def an_alert(ctx: Context) -> dict:
    """An alert from outside the inventory: locating it asks no device."""
    from threat.models import Alert
    from threat.services.alerts import ingest_alerts

    ingest_alerts([{"kind": "smb-scan", "severity": "high", "src": "192.0.2.77", "dst": None, "dport": 445,
                    "first_seen": "2017-05-12T08:00:00Z", "last_seen": "2017-05-12T08:00:09Z", "count": 30,
                    "evidence": ["30 hosts on 445"]}], "pcap", locate=False)
    return {"alert": Alert.objects.get(src="192.0.2.77").pk}


def a_located_alert(ctx: Context) -> dict:
    from inventory.models import Device
    from threat.models import Alert
    from threat.services.alerts import ingest_alerts

    ctx.request.getfixturevalue("demo_inventory")
    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": "10.1.5.12", "dst": "10.1.0.99",
                    "dport": 445, "first_seen": "2017-05-12T08:00:00Z", "last_seen": "2017-05-12T08:00:01Z",
                    "count": 1, "evidence": ["x"]}], "pcap", locate=False)
    alert = Alert.objects.get(src="10.1.5.12")
    alert.switch, alert.switch_port = Device.objects.get(name="ag-public-security-sw1"), "GigabitEthernet0/0/2"
    alert.save()
    return {"alert": alert.pk}


def missing(ctx: Context) -> dict:
    return {"missing": ctx.tmp_path / "no-such-file"}


def engineers(ctx: Context) -> dict:
    """alice writes changes, bob approves them, analyst contains alerts (the small inventory's router, which has
    no SSH credential: a dry run reaches no device, it says why)."""
    from django.contrib.auth import get_user_model

    from web.models import Profile

    imported(ctx)
    for name, role in (("alice", "engineer"), ("bob", "engineer"), ("analyst", "security")):
        Profile.objects.create(user=get_user_model().objects.create_user(name), role=role)
    path = ctx.tmp_path / "change.cfg"
    path.write_text("ntp-service unicast-server 10.0.250.11\n", encoding="utf-8")
    return {"lines": path, **missing(ctx), **huge(ctx)}


def huge(ctx: Context) -> dict:
    """A "config" past any device's size (sparse: nothing is written)."""
    path = ctx.tmp_path / "huge.cfg"
    with path.open("wb") as stream:
        stream.truncate(64 * 1024 * 1024)
    return {"huge": path}


def a_change(ctx: Context) -> dict:
    """A change of alice's on the small inventory's router, waiting for approval."""
    from changes.models import ChangeRequest
    from changes.services import requests
    from inventory.models import Device

    files = engineers(ctx)
    device = Device.objects.get(name="nj-agg-1")
    alice = device.__class__._meta.apps.get_model("auth", "User").objects.get(username="alice")
    change = requests.create(alice, requests.Plan("ntp", "the baseline", {device.pk: ["ntp-service enable"]}))
    ChangeRequest.objects.filter(pk=change.pk).update(status="awaiting_approval")
    return {**files, "change": change.pk}


def an_alert_and_analyst(ctx: Context) -> dict:
    engineers(ctx)
    return an_alert(ctx)


def a_located_alert_and_analyst(ctx: Context) -> dict:
    located = a_located_alert(ctx)
    engineers(ctx)
    return located


EGRESS_POLICY = textwrap.dedent("""\
    blocked_ports: [{protocol: tcp, port: 445}, {protocol: udp, port: 137}]
    enforce_on: [{role: aggregation, interfaces: uplink}]
    egress_devices: {roles: [egress]}
    """)


def config_file(ctx: Context) -> dict:
    """A device config of the operator's, for `compliance check`."""
    path = ctx.tmp_path / "r1.cfg"
    path.write_text("sysname r1\n#\nuser-interface vty 0 4\n protocol inbound all\n#\nreturn\n", encoding="utf-8")
    return {"config": path}


def stored_config(ctx: Context) -> dict:
    """The small inventory's router with a stored config, for `compliance run`."""
    from django.utils import timezone

    from collectors.models import ConfigVersion
    from inventory.models import Device

    imported(ctx)
    ConfigVersion.objects.create(device=Device.objects.get(name="nj-agg-1"), fetched_at=timezone.now(), sha256="x",
                                 text="sysname nj-agg-1\n#\nuser-interface vty 0 4\n protocol inbound ssh\n")
    return {}


def egress_policy(ctx: Context) -> dict:
    """A policy file of the operator's, and the small inventory's router with a stored config to verify."""
    from django.utils import timezone

    from collectors.models import ConfigVersion
    from inventory.models import Device

    imported(ctx)
    ConfigVersion.objects.create(device=Device.objects.get(name="nj-agg-1"), fetched_at=timezone.now(), sha256="x",
                                 text="sysname nj-agg-1\ninterface GigabitEthernet0/0/1\n ip address 172.31.0.2 30\n"
                                      "ip route-static 0.0.0.0 0.0.0.0 172.31.0.1\n")
    path = ctx.tmp_path / "egress-policy.yaml"
    path.write_text(EGRESS_POLICY, encoding="utf-8")
    return {"policy": path}


def bad_egress_policy(ctx: Context) -> dict:
    path = ctx.tmp_path / "egress-policy.yaml"
    path.write_text(EGRESS_POLICY.replace("udp", "udpp"), encoding="utf-8")
    return {"policy": path}


# ------------------------------------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]  # the command line after manage.py; {name}s come from `setup`
    error: str | None = None  # the code of the error a failing run reports; None: it succeeds
    setup: Callable[[Context], dict] | None = None
    label: str = ""  # tells apart two cases with the same command line
    transaction: bool = False  # the command closes the connection or uses threads: no test transaction around it
    stream: bool = False  # NDJSON, which only a command declaring streams_ndjson may print
    also: tuple[str, ...] = field(default=())  # other codes the same run may honestly report (root or not)

    @property
    def id(self) -> str:
        return " ".join(self.args) + (f" [{self.label}]" if self.label else "")


ROOTLESS = () if os.geteuid() == 0 else ("THREAT_CAPTURE_PERMISSION",)

CASES = [
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "alice", "--dry-run",
          "--json"), setup=engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "alice", "--json"),
         setup=engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "alice", "--approve-as",
          "bob", "--confirm-timeout", "120", "--reason", "the NTP baseline", "--json"), setup=engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "alice", "--approve-as",
          "alice", "--json"), "CHANGE_SELF_APPROVAL", engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "alice",
          "--confirm-timeout", "5", "--json"), "CHANGE_BAD_TIMEOUT", engineers),
    Case(("change", "apply", "--device", "nowhere", "--config-file", "{lines}", "--as", "alice", "--json"),
         "CHANGE_DEVICE_UNKNOWN", engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{lines}", "--as", "nobody", "--json"),
         "CHANGE_USER_UNKNOWN", engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{missing}", "--as", "alice", "--json"),
         "CONFIG_FILE_UNREADABLE", engineers),
    Case(("change", "apply", "--device", "nj-agg-1", "--config-file", "{huge}", "--as", "alice", "--json"),
         "CONFIG_FILE_TOO_LARGE", engineers),
    Case(("change", "list", "--json"), setup=a_change),
    Case(("change", "list", "--status", "completed", "--json"), setup=a_change),
    Case(("change", "show", "{change}", "--json"), setup=a_change),
    Case(("change", "show", "999999", "--json"), "CHANGE_NOT_FOUND"),
    Case(("change", "approve", "{change}", "--as", "bob", "--note", "looks right", "--json"), setup=a_change),
    Case(("change", "approve", "{change}", "--as", "alice", "--json"), "CHANGE_SELF_APPROVAL", a_change),
    Case(("change", "reject", "{change}", "--as", "bob", "--note", "not now", "--json"), setup=a_change),
    Case(("change", "confirm", "{change}", "--as", "bob", "--note", "n", "--json"), "CHANGE_NOTHING_WAITING",
         a_change),
    Case(("change", "rollback", "{change}", "--as", "bob", "--note", "n", "--json"), "CHANGE_NOTHING_WAITING",
         a_change),
    Case(("change", "contain", "{alert}", "--kind", "acl-block-host", "--as", "analyst", "--release-after", "3600",
          "--json"), setup=a_located_alert_and_analyst),
    Case(("change", "contain", "{alert}", "--as", "analyst", "--json"), "THREAT_NOT_LOCATED", an_alert_and_analyst),
    Case(("change", "sweep", "--json")),
    Case(("change", "audit", "--json"), setup=a_change),
    Case(("change", "audit", "--change", "{change}", "--device", "nj-agg-1", "--json"), setup=a_change),
    Case(("backup", "--json")),
    Case(("backup", "--no-tables", "--json")),
    Case(("backup", "--device", "nowhere", "--json"), "DEVICE_UNKNOWN"),
    Case(("compliance", "check", "--platform", "huawei_vrp", "--config", "{config}", "--json"), setup=config_file),
    Case(("compliance", "check", "--platform", "cisco_ios", "--config", "{config}", "--role", "egress", "--json"),
         setup=config_file),
    Case(("compliance", "check", "--platform", "junos", "--config", "{config}", "--json"), "PLATFORM_UNKNOWN",
         config_file),
    Case(("compliance", "check", "--platform", "cisco_ios", "--config", "{missing}", "--json"),
         "CONFIG_FILE_UNREADABLE", missing),
    Case(("compliance", "check", "--platform", "cisco_ios", "--config", "{huge}", "--json"),
         "CONFIG_FILE_TOO_LARGE", huge),
    Case(("compliance", "run", "--json")),
    Case(("compliance", "run", "--device", "nj-agg-1", "--json"), setup=stored_config),
    Case(("compliance", "run", "--device", "nowhere", "--json"), "DEVICE_UNKNOWN"),
    Case(("coverage", "--json")),
    Case(("coverage", "--region", "nanjiang", "--json"), setup=imported),
    Case(("coverage", "--region", "nowhere", "--json"), "REGION_UNKNOWN"),
    Case(("credentials", "check", "--json")),
    Case(("credentials", "check", "--json"), "CREDENTIAL_UNREADABLE", unreadable_credential, "one unreadable"),
    Case(("credentials", "check", "--json"), "CREDENTIAL_KEY_MISSING", no_credential_key, "no key"),
    Case(("credentials", "rotate-key", "--new-key-file", "{new_key}", "--json"), setup=key_files),
    Case(("credentials", "rotate-key", "--new-key-file", "{new_key}", "--old-key-file", "{bad_key}", "--json"),
         "CREDENTIAL_KEY_INVALID", key_files),
    Case(("demo_users", "--json"), setup=own_var_dir),
    Case(("demo_users", "--json"), "VAR_DIR_MISSING", no_var_dir, "before init"),
    Case(("egress", "render", "--platform", "huawei_vrp", "--json")),
    Case(("egress", "render", "--platform", "cisco_ios", "--policy", "{policy}", "--json"), setup=egress_policy),
    Case(("egress", "render", "--platform", "junos", "--json"), "PLATFORM_UNKNOWN"),
    Case(("egress", "render", "--platform", "hp_comware", "--policy", "{policy}", "--json"), "EGRESS_POLICY_INVALID",
         bad_egress_policy),
    Case(("egress", "verify", "--json")),
    Case(("egress", "verify", "--device", "nj-agg-1", "--policy", "{policy}", "--json"), setup=egress_policy),
    Case(("egress", "verify", "--device", "nowhere", "--json"), "DEVICE_UNKNOWN"),
    Case(("egress", "verify", "--policy", "{policy}", "--json"), "EGRESS_POLICY_INVALID", bad_egress_policy),
    Case(("init", "--json"), setup=init_paths),
    Case(("init", "--json"), "SETTING_INVALID", shared_var_dir, "shared var dir"),
    Case(("inventory", "import", "{inventory}", "--json"), setup=inventory_file),
    Case(("inventory", "import", "{inventory}", "--json"), "INVENTORY_INVALID", bad_inventory_file, "bad row"),
    Case(("inventory", "import", "{inventory}", "--json"), "CREDENTIAL_KEY_MISSING", inventory_file_without_key,
         "no key"),
    Case(("inventory", "import", "{missing}", "--json"), "INVENTORY_FILE_MISSING", missing),
    Case(("inventory", "export", "--json"), setup=imported),
    Case(("inventory", "export", "--format", "csv", "--output", "{missing}", "--json"), setup=missing),
    Case(("lab", "up", "--json"), setup=lab_of_its_own),
    Case(("lab", "down", "--json"), setup=own_var_dir),
    Case(("lab", "status", "--json"), setup=own_var_dir),
    Case(("lab", "status", "--check", "--json"), setup=own_var_dir),
    Case(("lab", "inventory", "--no-import", "--output", "{missing}", "--json"), setup=missing),
    Case(("lab", "traffic", "--scenario", "office", "--out", "{out}", "--json"), setup=pcap),
    Case(("lab", "traffic", "--scenario", "office", "--out", "{out}", "--speed", "2", "--keep", "--json"),
         "LIVE_IFACE_MISSING", pcap),
    Case(("lab", "traffic", "--scenario", "office", "--out", "{out}", "--live", "not a name!", "--json"),
         "LIVE_IFACE_INVALID", pcap),
    Case(("lab", "snmp-serve", "{missing}", "--json"), "SNMPREC_MISSING", missing),
    Case(("lab", "snmp-serve", "{recording}", "--address", "127.0.0.1", "--port", "{port}", "--json"),
         "SNMPREC_SERVE_FAILED", bad_recording_file),
    Case(("poll", "--json")),
    Case(("poll", "--once", "--json")),
    Case(("poll", "--device", "nowhere", "--json"), "DEVICE_UNKNOWN"),
    Case(("poll", "--json"), "CREDENTIAL_KEY_MISSING", imported_without_key, "no key"),
    Case(("schedules", "--json")),
    Case(("schedules", "--queues", "--json")),
    Case(("schedules", "--run-now", "--json"), setup=run_now_sends_nothing),
    Case(("snmpprobe", "{target}", "--community", "{community}", "--json"), setup=serving_recording),
    Case(("snmpprobe", "127.0.0.1:{port}", "--timeout", "0.3", "--json"), "SNMP_NO_ANSWER", closed_port),
    Case(("snmpprobe", "127.0.0.1:{port}", "--snmp-version", "3", "--user", "ops", "--auth-key", "auth-pass-1",
          "--timeout", "0.3", "--json"), "SNMP_NO_ANSWER", closed_port, also=("SNMP_AUTH_FAILED",)),
    Case(("snmpprobe", "127.0.0.1:x", "--json"), "TARGET_INVALID"),
    Case(("threat", "scan", "{pcap}", "--json"), setup=pcap),
    Case(("threat", "scan", "{pcap}", "--ingest", "--no-locate", "--json"), setup=pcap),
    Case(("threat", "scan", "{missing}", "--json"), "THREAT_CAPTURE_NOT_FOUND", missing),
    Case(("threat", "sensor", "--iface", "lo", "--seconds", "0.3", "--flush", "0.1", "--no-locate", "--json"),
         transaction=True, also=ROOTLESS),
    Case(("threat", "sensor", "--iface", "no-such-if0", "--json"), "THREAT_IFACE_UNKNOWN"),
    Case(("threat", "import-eve", "{eve}", "--no-locate", "--json"), setup=eve_file),
    Case(("threat", "import-eve", "{missing}", "--json"), "THREAT_EVE_NOT_FOUND", missing),
    Case(("threat", "locate", "{alert}", "--json"), setup=an_alert),
    Case(("threat", "locate", "999999", "--json"), "THREAT_ALERT_UNKNOWN"),
]

# Commands that run until they are stopped: real processes, read while they run, then stopped.
LONG_RUNNING = {
    "poll --every": Case(("poll", "--every", "1", "--json"), stream=True),
    "lab snmp-serve": Case(("lab", "snmp-serve", "{recording}", "--address", "127.0.0.1", "--port", "{port}",
                            "--json"), setup=recording_file),
    "threat sensor": Case(("threat", "sensor", "--iface", "lo", "--no-locate", "--json"), also=ROOTLESS),
}

# A command line argparse refuses is a failure too: one JSON error document, from a real process.
BAD_ARGUMENTS = [
    Case(("lab", "--json"), "USAGE_INVALID"),
    Case(("inventory", "import", "--json"), "USAGE_INVALID"),
    Case(("poll", "--every", "soon", "--json"), "USAGE_INVALID"),
    Case(("egress", "render", "--json"), "USAGE_INVALID"),
]

# Options no case needs, because they cannot change the shape of what is printed: why, for each.
SAME_OUTPUT = {
    ("lab up", "--scale"): "which lab starts; the same document lists its devices",
    ("lab up", "--seed"): "which lab starts; the same document lists its devices",
    ("lab up", "--no-inventory"): "the same document without its `inventory` counts",
    ("lab inventory", "--scale"): "which topology; the same counts",
    ("lab inventory", "--seed"): "which topology; the same counts",
    ("lab traffic", "--scale"): "whose IP plan the packets use",
    ("lab traffic", "--seed"): "which packets",
}


# ------------------------------------------------------------------------------------------------ the commands


def project_commands() -> dict[str, str]:
    """Every management command of the project's own apps (not Django's, nor a package's): name → app."""
    from django.apps import apps

    def is_ours(config) -> bool:
        path = Path(config.path).resolve()
        return path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / ".venv")

    ours = {config.name for config in apps.get_app_configs() if is_ours(config)}
    return {name: app for name, app in get_commands().items() if app in ours}


def command_modes() -> dict[tuple[str, ...], set[str]]:
    """(command, sub-command…) → its options, for every parser that runs something (no sub-commands below it)."""
    shared = {action.dest for action in BaseCommand().create_parser("manage.py", "x")._actions}
    modes = {}

    def walk(parser, path):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            modes[path] = {max(a.option_strings, key=len) for a in parser._actions
                           if a.option_strings and a.dest not in shared}
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, (*path, name))

    for name, app in project_commands().items():
        walk(load_command_class(app, name).create_parser("manage.py", name), (name,))
    return modes


def mode_of(case: Case, modes) -> tuple[str, ...] | None:
    matches = [m for m in modes if case.args[:len(m)] == m]
    return max(matches, key=len) if matches else None


def command_class(name: str):
    return type(load_command_class(project_commands()[name], name))


def test_every_command_sub_command_and_option_has_a_case():
    modes = command_modes()
    cases = [*CASES, *LONG_RUNNING.values(), *BAD_ARGUMENTS]
    run = {mode_of(c, modes) for c in cases}
    assert set(modes) - run == set(), "commands or sub-commands without a --json case: add them to CASES"
    assert [c.id for c in cases if c.args[0] not in project_commands()] == [], "cases of commands no longer there"
    used = {mode: set() for mode in modes}
    for case in cases:
        if mode_of(case, modes):  # (a bad command line may name no sub-command)
            used[mode_of(case, modes)] |= {arg.split("=", 1)[0] for arg in case.args if arg.startswith("--")}
    unexplained = sorted((" ".join(mode), option) for mode, options in modes.items() for option in options
                         if option not in used[mode] and (" ".join(mode), option) not in SAME_OUTPUT)
    assert unexplained == [], "options no case runs: add a case, or say in SAME_OUTPUT why the output is the same"
    stale = [key for key in SAME_OUTPUT if key[1] not in modes.get(tuple(key[0].split()), set())]
    assert stale == [], "SAME_OUTPUT names options that no longer exist"


def test_every_command_and_sub_command_takes_json():
    from web.commands import OneNetCommand

    assert [name for name in project_commands() if not issubclass(command_class(name), OneNetCommand)] == []
    assert sorted(" ".join(mode) for mode, options in command_modes().items() if "--json" not in options) == []


def test_streaming_is_declared_by_the_command_itself():
    """Only a command that declares `streams_ndjson` may stream, and each one that does has a case that streams."""
    cases = [*CASES, *LONG_RUNNING.values()]
    streaming_cases = {c.args[0] for c in cases if c.stream}
    declared = {name for name in project_commands() if getattr(command_class(name), "streams_ndjson", False)}
    assert streaming_cases == declared


# ------------------------------------------------------------------------------------------------ the output


def documents(stdout: str, stream: bool) -> list:
    """The JSON document(s) on stdout: exactly one, or with `stream` one per line (NDJSON)."""
    if not stream:
        return [json.loads(stdout)]  # raises on nothing, on text around it, and on a second document
    lines = stdout.splitlines()
    assert lines and all(lines), f"NDJSON has one document on every line, no empty ones: {stdout[:500]!r}"
    return [json.loads(line) for line in lines]


def check_outcome(case: Case, docs: list, failed: bool, stderr: str = ""):
    last = docs[-1]
    if case.error is None and not (failed and last.get("error", {}).get("code") in case.also):
        assert not failed and "error" not in last, f"{case.id} failed: {last.get('error')}\n{stderr[-1500:]}"
        return
    assert failed, f"{case.id} should have failed with {case.error}"
    error = last.get("error")
    assert isinstance(error, dict) and set(error) >= {"code", "message", "details"}, last
    assert error["code"] in (case.error, *case.also), error
    assert isinstance(error["message"], str) and error["message"] and isinstance(error["details"], list)


def _fill(args, values) -> list[str]:
    return [arg.format(**{k: str(v) for k, v in values.items()}) for arg in args]


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.django_db(transaction=c.transaction), id=c.id)
                                  for c in CASES])
def test_a_command_prints_exactly_one_json_document(case, tmp_path, settings, monkeypatch, request, capfd):
    values = case.setup(Context(tmp_path, settings, monkeypatch, request)) if case.setup else {}
    capfd.readouterr()
    failed = False
    try:
        call_command(*_fill(case.args, values))
    except Exception:  # noqa: BLE001 - a failure must still have printed its one document
        failed = True
    out, err = capfd.readouterr()
    try:
        docs = documents(out, case.stream)
    except json.JSONDecodeError as error:
        pytest.fail(f"{case.id}: stdout is not exactly one JSON document ({error}):\n{out[:1500]}\n--- stderr:\n"
                    f"{err[-1500:]}")
    check_outcome(case, docs, failed, err)


# ------------------------------------------------------------------------------------------------ real processes


def _environment(var_dir: Path, database_url: str | None = None) -> dict:
    """A fresh var/ (not initialised: the commands need none of it) and the keys from the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONUNBUFFERED")}
    env.update(ONENET_VAR_DIR=str(var_dir), ONENET_CREDENTIAL_KEY=FERNET_KEY, ONENET_SECRET_KEY="s" * 60)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _database_url(settings_dict: dict) -> str:
    """The session's test database as DATABASE_URL, for a command in another process."""
    engine, name = settings_dict["ENGINE"], str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        assert not name.startswith("file:") and ":memory:" not in name, "the SQLite test database must be a file"
        return "sqlite:///" + str(Path(name).resolve())
    user = quote(settings_dict.get("USER") or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}@{settings_dict.get('HOST') or '127.0.0.1'}{port}/{quote(name)}"


class Running:
    """A command run as a real process (stdout a pipe, as for any script reading it), read while it runs."""

    def __init__(self, case: Case, values: dict, env: dict):
        self.process = subprocess.Popen([sys.executable, "manage.py", *_fill(case.args, values)], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.pending = {"stdout": b"", "stderr": b""}

    def line(self, seconds: float) -> str:
        """The next line on stdout as soon as it is printed (so: flushed at once), within `seconds`."""
        self._read_until("stdout", lambda text: b"\n" in text, seconds)
        line, self.pending["stdout"] = self.pending["stdout"].split(b"\n", 1)
        return line.decode() + "\n"

    def said(self, text: str, seconds: float) -> None:
        """Wait until stderr shows `text` (what a person sees when the command is ready)."""
        self._read_until("stderr", lambda seen: text.encode() in seen, seconds)

    def _read_until(self, name: str, done, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        fd = getattr(self.process, name).fileno()
        while not done(self.pending[name]):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                _, err = self.stop(signal.SIGKILL)
                pytest.fail(f"nothing awaited on {name} within {seconds} s; stderr:\n{err[-2000:]}")
            chunk = os.read(fd, 65536)
            if not chunk:
                _, err = self.stop(signal.SIGKILL)
                pytest.fail(f"{name} closed first ({self.pending[name][:200]!r}); stderr:\n{err[-2000:]}")
            self.pending[name] += chunk

    def stop(self, sig: int) -> tuple[str, str]:
        """Signal the process group (the command and what it started); the rest of stdout, and stderr."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            out, err = self.process.communicate()
        out, err = self.pending["stdout"] + out, self.pending["stderr"] + err
        self.pending = {"stdout": b"", "stderr": b""}
        return out.decode(), err.decode(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_poll_every_prints_one_json_line_per_cycle_as_it_goes(tmp_path):
    """`poll --every S --json` is NDJSON: each cycle's document is on stdout when the cycle ends, not at exit."""
    from django.db import connection

    case = LONG_RUNNING["poll --every"]
    assert command_class("poll").streams_ndjson
    running = Running(case, {}, _environment(tmp_path / "var", _database_url(connection.settings_dict)))
    try:
        first = running.line(60)
        second = running.line(30)
    finally:
        out, err = running.stop(signal.SIGTERM)  # the poller's own clean exit
    docs = documents(first + second + out, stream=True)
    assert [d.get("cycle") for d in docs[:2]] == [1, 2], (docs, err[-1500:])
    assert all({"devices_polled", "devices_failed", "samples_written", "seconds"} <= set(d) for d in docs[:2])


def test_lab_snmp_serve_prints_one_document_once_it_serves_then_nothing_more(tmp_path):
    """`lab snmp-serve --json` runs on: its one document says what is served where, once it answers."""
    from lab.services import snmp_answers

    case = LONG_RUNNING["lab snmp-serve"]
    values = recording_file(Context(tmp_path, None, None, None))
    running = Running(case, values, _environment(tmp_path / "var"))
    try:
        first = running.line(60)
        served = json.loads(first)
        assert snmp_answers("127.0.0.1", values["port"], values["recording"].stem)  # printed once it serves
        time.sleep(0.3)
    finally:
        out, err = running.stop(signal.SIGINT)  # Ctrl-C, as a person stops it
    [document] = documents(first + out, stream=False)
    assert document == served
    assert document["serving"] is True and document["port"] == values["port"]
    assert document["recordings"] == [{"file": str(values["recording"].resolve()), "community": "contract_sw"}]
    assert "stopped after" in err  # the responder's own last line went to stderr


@pytest.mark.django_db(transaction=True)
def test_threat_sensor_stopped_by_sigterm_prints_its_one_summary(tmp_path):
    """The sensor runs until stopped; SIGTERM (systemd, kill) ends it like --seconds: one document, its figures."""
    from django.db import connection

    case = LONG_RUNNING["threat sensor"]
    running = Running(case, {}, _environment(tmp_path / "var", _database_url(connection.settings_dict)))
    try:
        running.said("capturing until", 60)
        time.sleep(0.5)
    finally:
        out, err = running.stop(signal.SIGTERM)
    docs = documents(out, stream=False)
    check_outcome(case, docs, running.process.returncode != 0, err)
    if "error" not in docs[0]:
        assert docs[0]["iface"] == "lo" and {"packets", "alerts", "created", "updated"} <= set(docs[0])


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=lambda c: c.id)
def test_bad_arguments_print_one_json_error(case, tmp_path):
    result = subprocess.run([sys.executable, "manage.py", *case.args], cwd=ROOT, env=_environment(tmp_path / "var"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-1500:]
    check_outcome(case, documents(result.stdout, stream=False), failed=True)
    assert "usage:" in result.stderr  # and the person still sees argparse's own message


def test_a_coded_error_from_below_the_command_is_one_document_and_one_line_without_traceback(tmp_path):
    """A service's coded error (here: no credential key, before `manage.py init`) reaches a script as its one
    JSON document and a person as "CODE: what to do"; a traceback is kept for what nobody foresaw."""
    env = {k: v for k, v in _environment(tmp_path / "var").items() if k != "ONENET_CREDENTIAL_KEY"}
    result = subprocess.run([sys.executable, "manage.py", "credentials", "check", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    [document] = documents(result.stdout, stream=False)
    assert document["error"]["code"] == "CREDENTIAL_KEY_MISSING" and "manage.py init" in document["error"]["message"]
    assert "CREDENTIAL_KEY_MISSING: " in result.stderr and "Traceback" not in result.stderr
