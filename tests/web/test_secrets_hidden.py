"""A config with secrets of every kind planted in it, walked as an engineer through every page and export that
shows a stored config or its lines (the config page and its download and diff, the device page, compliance
findings, their exports and the MLPS workbook, a change's dry-run diff, its audit log and exports, the egress
findings and their exports): no secret shows; an administrator still sees them."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from changes.choices import Action, ChangeStatus, Outcome, TaskStatus
from changes.models import ChangeRequest, ChangeTask
from changes.services import audit
from collectors.models import ConfigVersion
from egress.choices import Rule, Status
from egress.models import EgressResult
from inventory.models import Device
from policies.engine import check_config
from policies.models import RuleResult
from policies.services import store

pytestmark = pytest.mark.django_db

# Per platform: the planted secrets, each on a line of its kind (cleartext ones so compliance quotes them).
PLANTED = {
    "nanjiang-agg-1": ("huawei_vrp", [
        ("aaa\n local-user admin password simple {}", "PlantedVrpPw1"),
        (" local-user bob password irreversible-cipher {}", "$1c$PlantedVrpHash$"),  # in the same aaa
        ("snmp-agent community write {}", "PlantedVrpRw2"),
        ("snmp-agent community read cipher {} acl 2000", "%^%#PlantedVrpRo3%^%#"),
        ("snmp-agent usm-user v3 nms authentication-mode sha {}", "PlantedVrpAuth4"),
        ("hwtacacs-server template t\n hwtacacs-server shared-key simple {}", "PlantedVrpTac5"),
        ("ntp-service authentication-keyid 1 authentication-mode md5 plain {}", "PlantedVrpNtp6")]),
    "nanjiang-hub-sw1": ("cisco_ios", [
        ("enable secret 5 {}", "$1$Plant$IosEnable7"),
        ("username ops privilege 15 password 0 {}", "PlantedIosPw8"),
        ("snmp-server community {} RW", "PlantedIosRw9"),
        ("snmp-server user u g v3 auth sha {} priv aes 128 PlantedIosPriv11", "PlantedIosAuth10"),
        ("tacacs-server host 10.0.0.5 key {}", "PlantedIosTac12"),
        ("ntp authentication-key 1 md5 {}", "PlantedIosNtp13")]),
    "nanjiang-t02-v02-cpe": ("hp_comware", [
        ("local-user admin class manage\n password simple {}", "PlantedH3cPw14"),
        ("snmp-agent community write simple {}", "PlantedH3cRw15"),
        ("radius scheme r\n key authentication simple {}", "PlantedH3cRad16")]),
    "nanjiang-t01-v01-cpe": ("ruijie_os", [
        ("enable password 0 {}", "PlantedRjEn17"),
        ("snmp-server community {} rw", "PlantedRjRw18"),
        ("radius-server host 10.0.0.6 key {}", "PlantedRjRad19")]),
}
SECRETS = [secret for _platform, lines in PLANTED.values() for _line, secret in lines] + ["PlantedIosPriv11"]


def planted_config(name: str) -> str:
    _platform, lines = PLANTED[name]
    return "\n".join([f"sysname {name}", *(line.format(secret) for line, secret in lines), "return", ""])


@pytest.fixture
def planted(demo_inventory, make_user):
    """Each device with a planted config (and an older version, so there is a diff), checked for compliance; a
    change whose dry run found the secrets, with its audit log; an egress finding quoting a secret's line."""
    author = make_user("author")
    devices = {}
    for name in PLANTED:
        device = Device.objects.select_related("site__region").get(name=name)
        text = planted_config(name)
        older = text.replace(PLANTED[name][1][0][1], "OlderSecretOf" + name.replace("-", ""))
        ConfigVersion.objects.create(device=device, fetched_at=timezone.now() - timedelta(hours=1), sha256="old",
                                     text=older)
        version = ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256="new", text=text)
        store(device, version, check_config(device.platform, text, device.role))
        devices[name] = (device, version)
    change = ChangeRequest.objects.create(title="rotate secrets", reason="test", region=devices["nanjiang-agg-1"][
        0].site.region.parent or devices["nanjiang-agg-1"][0].site.region, author=author,
        status=ChangeStatus.AWAITING_APPROVAL, targets=", ".join(PLANTED), confirm_timeout=300)
    for name, (device, _version) in devices.items():
        lines = planted_config(name).splitlines()[1:-2]
        diff = "\n".join([f"--- {name} (running)", f"+++ {name} (after the change)", "@@ -1 +1,9 @@",
                          *(f"+{line}" for line in lines)])
        ChangeTask.objects.create(change=change, device=device, lines=lines, diff=diff, status=TaskStatus.PENDING,
                                  reason=f"would add {lines[-1]!r}")
        audit.record(change, Action.DRY_RUN, device=device, outcome=Outcome.OK, message=f"dry run: {lines[0]!r}",
                     diff=diff)
    vrp, vrp_version = devices["nanjiang-agg-1"]
    line = "snmp-agent community write PlantedVrpRw2"
    EgressResult.objects.create(device=vrp, rule=Rule.NO_ROGUE_DEFAULT_ROUTE, status=Status.FAIL, message="test",
                                checked_at=timezone.now(), config_version=vrp_version, evidence=[[3, line]],
                                details=[{"kind": "route", "rogue": True, "interface": "GE0/0/1", "next_hop": None,
                                          "line": [3, line], "reason": "test"}])
    return devices, change


def xlsx_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content))
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def walk(client, devices, change) -> dict[str, str]:
    """Every page and export showing configs or their lines, as text, by URL."""
    urls = []
    for device, version in devices.values():
        urls += [reverse("config_version", args=[version.pk]), reverse("config_version", args=[version.pk])
                 + "?download=config", reverse("inventory:device", args=[device.pk]),
                 reverse("changes:device_audit_export", args=[device.pk]) + "?export=csv"]
        urls += [reverse("compliance:result", args=[r.pk]) for r in RuleResult.objects.filter(device=device)]
    urls += [reverse("compliance:findings"), reverse("compliance:findings") + "?export=csv",
             reverse("compliance:findings") + "?export=xlsx", reverse("compliance:mlps_export"),
             reverse("changes:detail", args=[change.pk]), reverse("changes:progress", args=[change.pk]),
             reverse("changes:audit_export", args=[change.pk]) + "?export=csv",
             reverse("changes:audit_export", args=[change.pk]) + "?export=xlsx",
             reverse("egress:index"), reverse("egress:index") + "?export=csv&report=exits",
             reverse("egress:index") + "?export=xlsx&report=exits", reverse("egress:results")]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        if content[:2] == b"PK":
            pages[url] = xlsx_text(content)
        else:
            text = content.decode("utf-8-sig")
            pages[url] = json.dumps(json.loads(text), ensure_ascii=False) if url.endswith("/progress/") else text
    return pages


@pytest.mark.parametrize("role", ["engineer", "security", "manager"])
def test_no_page_or_export_shows_a_planted_secret_to_anyone_but_an_admin(client, make_user, planted, role):
    devices, change = planted
    client.force_login(make_user(f"u-{role}", role=role))
    pages = walk(client, devices, change)
    leaks = [(url, secret) for url, text in pages.items() for secret in SECRETS if secret in text]
    assert leaks == []
    config = pages[reverse("config_version", args=[devices["nanjiang-agg-1"][1].pk])]
    # the engineer still sees that there is a secret, what kind, and whether the device keeps it hashed
    assert "local-user admin password simple &lt;secret:" in config
    assert "local-user bob password irreversible-cipher &lt;hashed secret:" in config
    assert "snmp-agent community read cipher &lt;hashed secret:" in config
    assert any("snmp-agent community write &lt;secret:" in text for url, text in pages.items() if "/compliance/" in url)


def test_an_admin_sees_the_secrets(client, make_user, planted):
    devices, change = planted
    client.force_login(make_user("root", role="admin", superuser=True))
    pages = walk(client, devices, change)
    for name, (_device, version) in devices.items():
        config = pages[reverse("config_version", args=[version.pk]) + "?download=config"]
        assert all(secret in config for _line, secret in PLANTED[name][1])
    assert "PlantedIosRw9" in pages[reverse("changes:detail", args=[change.pk])]


@pytest.mark.parametrize("role, shown", [("engineer", False), ("admin", True)])
def test_a_change_command_run_as_a_user_prints_the_diff_as_that_user_may_see_it(make_user, planted, role, shown):
    _devices, change = planted
    make_user(f"cli-{role}", role=role, superuser=role == "admin")
    out = io.StringIO()
    call_command("change", "reject", str(change.pk), "--as", f"cli-{role}", "--json", stdout=out)
    document = json.loads(out.getvalue())
    printed = json.dumps(document, ensure_ascii=False)
    assert document["status"] == "rejected" and len(document["devices"]) == len(PLANTED)
    assert ("PlantedIosRw9" in printed) is shown and ("PlantedVrpPw1" in printed) is shown
    if not shown:
        assert "snmp-server community <secret:" in printed
