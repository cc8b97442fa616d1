"""The Changes console: the list, the form, one change with its dry run, decisions, progress and audit log, the
buttons the compliance and egress pages post here, and the device page's panel; scoped and role-checked.

No lab here: changes and their tasks and audit rows are written directly, or created through the form with the
pipeline in this process (`INLINE`, tests/changes/conftest.py) against devices whose SSH port nothing listens on,
so the dry run and the push fail honestly and quickly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from datetime import timedelta

import openpyxl
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from changes.choices import Action, ChangeStatus, Outcome, TaskStatus
from changes.models import AuditEntry, ChangeRequest, ChangeTask
from changes.services import audit
from inventory.models import Device, Region

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'
SECRET = "S3cretCommunity"
# A VRP dry run's diff: a masked secret (an SNMP community), a hostile line and a formula-looking line.
DIFF = "\n".join([
    "--- nanjiang-agg-1 (running)", "+++ nanjiang-agg-1 (after the change)", "@@ -1,2 +1,4 @@",
    " sysname nanjiang-agg-1", f"+snmp-agent community read cipher {SECRET} acl 2000", f"+description {HOSTILE}",
    "-ntp-service unicast-server 10.0.0.9"])


@pytest.fixture
def users(demo_inventory, make_user):
    return {"alice": make_user("alice"), "bob": make_user("bob"), "boss": make_user("boss", "manager"),
            "nj": make_user("engineer-nj", "engineer", region="nanjiang"), "root": make_user("root", "admin"),
            "analyst": make_user("analyst", "security")}


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client
    return as_user


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable(*names: str) -> None:
    """Nothing answers SSH at these devices' addresses: a dry run or push fails at once, honestly."""
    Device.objects.filter(name__in=names).update(address="127.0.0.1", ssh_port=closed_port())


def change_on(author, *names: str, status=ChangeStatus.AWAITING_APPROVAL, task_status=TaskStatus.PENDING,
              diff: str = "", title: str = "Test change") -> ChangeRequest:
    """A change written straight to the database: one task per device, with `diff` as each dry run found it."""
    from changes.services.requests import common_region

    devices = list(Device.objects.select_related("site__region").filter(name__in=names).order_by("name"))
    change = ChangeRequest.objects.create(title=title, reason="a test", region=common_region(devices), author=author,
                                          status=status, targets=", ".join(names), confirm_timeout=300)
    for device in devices:
        ChangeTask.objects.create(change=change, device=device, lines=["ntp-service unicast-server 10.0.250.11"],
                                  diff=diff, status=task_status)
    audit.record(change, Action.CREATED, author, message="created in a test")
    for device in devices:
        audit.record(change, Action.DRY_RUN, device=device, outcome=Outcome.OK, message="dry run", diff=diff)
    return change


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# -- the list --------------------------------------------------------------------------------------------------------
def test_the_list_shows_the_changes_newest_first_filters_searches_and_exports(users, login):
    first = change_on(users["alice"], "nanjiang-agg-1", title="NTP on Nanjiang")
    second = change_on(users["alice"], "zhongxin-agg-1", title="Syslog on Zhongxin", status=ChangeStatus.COMPLETED)
    client = login(users["bob"])
    response = client.get(reverse("changes:index"))
    assert response.status_code == 200
    titles = [row["cells"][0] for row in response.context["rows"]]
    assert titles == ["Syslog on Zhongxin", "NTP on Nanjiang"]
    assert reverse("changes:detail", args=[second.pk]) in response.content.decode()
    assert [r["cells"][0] for r in client.get(reverse("changes:index"), {"status": "completed"}).context["rows"]] \
        == ["Syslog on Zhongxin"]
    assert [r["cells"][0] for r in client.get(reverse("changes:index"), {"q": "NTP"}).context["rows"]] \
        == ["NTP on Nanjiang"]
    assert [r["cells"][0] for r in client.get(reverse("changes:index"), {"sort": "created_at"}).context["rows"]] \
        == ["NTP on Nanjiang", "Syslog on Zhongxin"]
    export = client.get(reverse("changes:index"), {"export": "csv"}).content.decode("utf-8-sig")
    assert "NTP on Nanjiang" in export and "Syslog on Zhongxin" in export
    assert timezone.localtime(first.created_at).isoformat(timespec="seconds") in export  # the configured zone
    book = openpyxl.load_workbook(io.BytesIO(client.get(reverse("changes:index"), {"export": "xlsx"}).content))
    created = [cell for row in book.active.iter_rows(min_row=2) for cell in row if cell.is_date]
    wall_clock = timezone.localtime(first.created_at).replace(tzinfo=None)
    # a date cell in the configured zone, not text (a spreadsheet keeps times to the millisecond)
    assert any(abs(cell.value - wall_clock) < timedelta(seconds=1) for cell in created)
    assert reverse("changes:create") in response.content.decode()
    assert reverse("changes:create") not in login(users["boss"]).get(reverse("changes:index")).content.decode()


def test_the_navigation_has_a_changes_section(users, login):
    page = login(users["boss"]).get(reverse("overview")).content.decode()
    assert f'href="{reverse("changes:index")}"' in page


# -- the form --------------------------------------------------------------------------------------------------------
def test_the_form_shows_what_is_wrong_and_creates_nothing(users, login):
    client = login(users["alice"])
    response = client.post(reverse("changes:create"), {
        "title": "", "reason": "why", "device_names": "no-such-device\nnanjiang-agg-1", "confirm_timeout": "30",
        "pilot_size": "1", "text_all": ""})
    assert response.status_code == 200
    page = response.content.decode()
    form = response.context["form"]
    assert {"title", "device_names", "confirm_timeout", "text_all"} <= set(form.errors)
    assert "no-such-device" in page and 'class="error"' in page
    assert not ChangeRequest.objects.exists()


def test_a_service_refusal_is_shown_on_the_form_with_its_code(users, login):
    client = login(users["alice"])
    response = client.post(reverse("changes:create"), {
        "title": "NTP", "reason": "time", "device_names": "nanjiang-agg-1", "confirm_timeout": "300",
        "pilot_size": "1", "text_cisco_ios": "ntp server 10.0.250.11"})  # nanjiang-agg-1 is a VRP device
    assert response.status_code == 200
    assert "CHANGE_NO_TEXT_FOR_PLATFORM" in response.content.decode()
    response = client.post(reverse("changes:create"), {
        "title": "NTP", "reason": "time", "device_names": "nanjiang-agg-1", "confirm_timeout": "300",
        "pilot_size": "1", "text_all": "ntp-service unicast-server 10.0.250.11\x1b[31m"})
    assert response.status_code == 200 and "CHANGE_BAD_LINE" in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_a_county_engineer_cannot_name_devices_outside_their_county(users, login):
    client = login(users["nj"])
    response = client.post(reverse("changes:create"), {
        "title": "NTP", "reason": "time", "device_names": "zhongxin-agg-1", "confirm_timeout": "300",
        "pilot_size": "1", "text_all": "ntp-service unicast-server 10.0.250.11"})
    assert response.status_code == 200 and "device_names" in response.context["form"].errors
    assert not ChangeRequest.objects.exists()
    choices = dict(response.context["form"].fields["region"].choices)
    assert "nanjiang" in choices and "zhongxin" not in choices


def test_a_template_prefills_the_form_per_platform(users, login):
    page = login(users["alice"]).get(reverse("changes:create"), {"template": "ntp-servers"}).content.decode()
    assert "ntp-service unicast-server 10.0.250.11" in page and "ntp server 10.0.250.11" in page
    page = login(users["alice"]).get(reverse("changes:create"), {"template": "vty-idle-timeout"}).content.decode()
    assert " idle-timeout 10 0" in page and " exec-timeout 10 0" in page


def test_a_region_and_role_pick_every_such_device_of_the_scope(users, login, monkeypatch):
    from changes.services import pipeline

    prepared = []
    monkeypatch.setattr(pipeline, "prepare_soon", prepared.append)  # target resolution only: no dry run here
    client = login(users["nj"])
    response = client.post(reverse("changes:create"), {
        "template": "ntp-servers", "title": "NTP on Nanjiang's access routers", "reason": "time",
        "region": "nanjiang", "role": "access", "confirm_timeout": "600", "pilot_size": "2",
        "text_huawei_vrp": "ntp-service unicast-server 10.0.250.11", "text_all": "ntp server 10.0.250.11",
        "text_hp_comware": "ntp-service enable\nntp-service unicast-server 10.0.250.11"})
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("changes:detail", args=[change.pk])
    assert prepared == [change]
    path = Region.objects.get(slug="nanjiang").path
    expected = set(Device.objects.filter(site__region__path__startswith=path, role="access", status="active")
                   .values_list("name", flat=True))
    tasks = list(change.tasks.select_related("device"))
    assert {t.device.name for t in tasks} == expected and len(expected) > 2
    assert change.source == "template" and change.confirm_timeout == 600 and change.auto_confirm is False
    assert sum(1 for t in tasks if t.batch == 0) == 2
    for task in tasks:
        wanted = {"huawei_vrp": ["ntp-service unicast-server 10.0.250.11"],
                  "hp_comware": ["ntp-service enable", "ntp-service unicast-server 10.0.250.11"]}
        assert task.lines == wanted.get(task.device.platform, ["ntp server 10.0.250.11"])
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert all(name in page for name in expected)


def test_creating_a_change_runs_the_dry_run_and_shows_each_device(users, login):
    unreachable("nanjiang-agg-1")
    client = login(users["alice"])
    response = client.post(reverse("changes:create"), {
        "title": "NTP", "reason": "time", "device_names": "nanjiang-agg-1", "confirm_timeout": "300",
        "auto_confirm": "on", "pilot_size": "1", "text_all": "ntp-service unicast-server 10.0.250.11"}, follow=True)
    change = ChangeRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("changes:detail", args=[change.pk])
    assert change.status == "awaiting_approval" and change.source == "manual" and change.auto_confirm
    task = change.tasks.get()
    assert task.status == "cancelled" and "not reachable for the dry run" in task.reason
    page = response.content.decode()
    assert "nanjiang-agg-1" in page and "not reachable for the dry run" in page
    assert list(change.audit.values_list("action", flat=True)) == ["created", "dry_run"]


def test_only_engineers_and_administrators_open_the_form(users, login):
    assert login(users["boss"]).get(reverse("changes:create")).status_code == 403
    assert login(users["analyst"]).get(reverse("changes:create")).status_code == 403
    assert login(users["root"]).get(reverse("changes:create")).status_code == 200


# -- one change ------------------------------------------------------------------------------------------------------
def test_a_diff_is_escaped_and_its_secrets_masked_for_everyone_but_admin(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", diff=DIFF)
    url = reverse("changes:detail", args=[change.pk])
    for user in (users["bob"], users["boss"], users["analyst"]):
        page = login(user).get(url).content.decode()
        assert SECRET not in page and "snmp-agent community read cipher &lt;hashed secret:" in page
        assert HOSTILE not in page and "&lt;script&gt;alert(" in page
        assert '<span class="add">+snmp-agent community read cipher &lt;hashed secret:' in page
        assert '<span class="del">-ntp-service unicast-server 10.0.0.9</span>' in page
    admin = login(users["root"]).get(url).content.decode()
    assert f"+snmp-agent community read cipher {SECRET} acl 2000" in admin
    assert HOSTILE not in admin and "&lt;script&gt;alert(" in admin


def test_the_author_gets_no_approve_button_and_the_pipeline_refuses_self_approval(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", diff=DIFF)
    client = login(users["alice"])
    response = client.get(reverse("changes:detail", args=[change.pk]))
    assert 'value="approve"' not in response.content.decode()
    assert str(response.context["why_no_approve"]) in response.content.decode() and response.context["why_no_approve"]
    response = client.post(reverse("changes:act", args=[change.pk]), {"action": "approve"}, follow=True)
    assert "CHANGE_SELF_APPROVAL" in messages_of(response)
    change.refresh_from_db()
    assert change.status == "awaiting_approval" and change.approved_by is None
    assert 'value="approve"' in login(users["bob"]).get(reverse("changes:detail", args=[change.pk])).content.decode()


def test_a_second_engineer_approves_and_the_roll_out_runs(users, login):
    unreachable("nanjiang-agg-1")
    change = change_on(users["alice"], "nanjiang-agg-1", diff=DIFF)
    response = login(users["bob"]).post(reverse("changes:act", args=[change.pk]), {"action": "approve",
                                                                                   "note": "looks right"},
                                        follow=True)
    change.refresh_from_db()
    task = change.tasks.get()
    assert change.approved_by == users["bob"] and change.status == "failed"
    assert task.status == "failed" and task.reason.startswith("not pushed")
    page = response.content.decode()
    assert "not pushed" in page and "looks right" in page
    assert f"#{change.pk}" in messages_of(response)


def test_a_manager_reads_a_change_but_every_decision_is_refused(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", diff=DIFF)
    client = login(users["boss"])
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert 'name="action"' not in page
    for action in ("approve", "reject", "cancel"):
        response = client.post(reverse("changes:act", args=[change.pk]), {"action": action}, follow=True)
        assert "CHANGE_NOT_ALLOWED" in messages_of(response)
    change.refresh_from_db()
    assert change.status == "awaiting_approval"
    assert list(change.audit.values_list("action", flat=True)) == ["created", "dry_run"]


def test_the_decisions_shown_follow_the_status(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", "zhongxin-agg-1", status=ChangeStatus.AWAITING_CONFIRM,
                       task_status=TaskStatus.AWAITING_CONFIRM)
    flagged = change.tasks.get(device__name="zhongxin-agg-1")
    flagged.status = TaskStatus.NEEDS_ATTENTION
    flagged.save()
    waiting = change.tasks.get(device__name="nanjiang-agg-1")
    waiting.confirm_deadline = timezone.now() + timezone.timedelta(minutes=5)
    waiting.save()
    page = login(users["bob"]).get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert 'value="confirm"' in page and 'value="rollback"' in page and 'value="approve"' not in page
    assert timezone.localtime(waiting.confirm_deadline).strftime("%Y-%m-%d %H:%M:%S") in page
    assert reverse("changes:resolve", args=[flagged.pk]) in page
    assert reverse("changes:resolve", args=[waiting.pk]) not in page
    assert 'id="change-live"' in page and "changes/progress.js" in page
    assert "<script>" not in page.replace(" ", "")  # no inline script: the CSP forbids it


def test_an_engineer_marks_a_flagged_device_resolved_with_a_note(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", status=ChangeStatus.RUNNING,
                       task_status=TaskStatus.NEEDS_ATTENTION)
    task = change.tasks.get()
    client = login(users["bob"])
    response = client.post(reverse("changes:resolve", args=[task.pk]), {"kept": "rolled_back", "note": ""},
                           follow=True)
    task.refresh_from_db()
    assert task.status == "needs_attention" and messages_of(response)
    client.post(reverse("changes:resolve", args=[task.pk]), {"kept": "rolled_back", "note": "restored by hand"})
    task.refresh_from_db()
    assert task.status == "rolled_back" and "restored by hand" in task.reason
    assert change.audit.filter(action="resolved", username="bob").exists()
    response = login(users["boss"]).post(reverse("changes:resolve", args=[task.pk]), {"kept": "kept", "note": "x"},
                                         follow=True)
    assert "CHANGE_NOT_ALLOWED" in messages_of(response)


def test_a_change_outside_the_scope_is_not_found(users, login):
    change = change_on(users["alice"], "zhongxin-agg-1", diff=DIFF)
    task = change.tasks.get()
    client = login(users["nj"])
    for name in ("changes:detail", "changes:progress", "changes:audit_export"):
        assert client.get(reverse(name, args=[change.pk])).status_code == 404
    assert client.post(reverse("changes:act", args=[change.pk]), {"action": "reject"}).status_code == 404
    assert client.post(reverse("changes:resolve", args=[task.pk]), {"kept": "kept", "note": "x"}).status_code == 404
    assert client.get(reverse("changes:device_audit_export", args=[task.device_id])).status_code == 404
    assert client.get(reverse("changes:index")).context["total"] == 0
    change.refresh_from_db()
    assert change.status == "awaiting_approval"


def test_a_change_spanning_two_counties_belongs_to_the_city(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", "zhongxin-agg-1")
    assert change.region.level == "city"
    assert login(users["nj"]).get(reverse("changes:detail", args=[change.pk])).status_code == 404
    assert login(users["bob"]).get(reverse("changes:detail", args=[change.pk])).status_code == 200


def test_progress_is_json_with_each_devices_status(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", "zhongxin-agg-1", status=ChangeStatus.RUNNING)
    task = change.tasks.get(device__name="nanjiang-agg-1")
    task.status, task.reason = TaskStatus.AWAITING_CONFIRM, f"pushed and checked {HOSTILE}"
    task.confirm_deadline = timezone.now()
    task.save()
    response = login(users["boss"]).get(reverse("changes:progress", args=[change.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert set(data) == {"change", "status", "status_label", "live", "tasks"}
    assert (data["change"], data["status"], data["live"]) == (change.pk, "running", True)
    rows = {row["device"]: row for row in data["tasks"]}
    assert set(rows) == {"nanjiang-agg-1", "zhongxin-agg-1"}
    assert set(rows["nanjiang-agg-1"]) == {"id", "device", "status", "status_label", "reason", "confirm_deadline"}
    assert rows["nanjiang-agg-1"]["status"] == "awaiting_confirm" and rows["nanjiang-agg-1"]["reason"].endswith(HOSTILE)
    assert rows["nanjiang-agg-1"]["confirm_deadline"] == timezone.localtime(task.confirm_deadline).strftime(
        "%Y-%m-%d %H:%M:%S")
    assert rows["zhongxin-agg-1"]["status"] == "pending" and rows["zhongxin-agg-1"]["confirm_deadline"] == ""


# -- the audit log -----------------------------------------------------------------------------------------------------
def test_the_audit_log_shows_and_exports_in_the_configured_time_zone_with_secrets_masked(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", diff=DIFF)
    client = login(users["bob"])
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    entry = change.audit.first()
    assert timezone.localtime(entry.time).strftime("%Y-%m-%d %H:%M:%S") in page
    assert "<details><summary>" in page
    text = client.get(reverse("changes:audit_export", args=[change.pk]), {"export": "csv"}).content.decode(
        "utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3 and rows[1][0] == timezone.localtime(entry.time).isoformat(timespec="seconds")
    assert SECRET not in text and "<hashed secret:" in text
    admin = login(users["root"]).get(reverse("changes:audit_export", args=[change.pk]), {"export": "csv"})
    assert SECRET in admin.content.decode("utf-8-sig")
    assert client.get(reverse("changes:audit_export", args=[change.pk]), {"export": "pdf"}).status_code == 404


def test_exports_keep_hostile_device_strings_as_plain_text(users, login):
    change = change_on(users["alice"], "nanjiang-agg-1", title="=HYPERLINK(\"http://evil\")")
    device = Device.objects.get(name="nanjiang-agg-1")
    device.name = "=cmd|' /C calc'!A0"
    device.save()
    audit.record(change, Action.FAILED, device=device, outcome=Outcome.FAILED,
                 message=f"@SUM(1) {HOSTILE}\x1b[31m", diff="=1+2\n+line")
    client = login(users["root"])
    for url, params in ((reverse("changes:audit_export", args=[change.pk]), {}),
                        (reverse("changes:device_audit_export", args=[device.pk]), {}),
                        (reverse("changes:index"), {})):
        text = client.get(url, {**params, "export": "csv"}).content.decode("utf-8-sig")
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
        assert "\x1b" not in text
        book = load_workbook(io.BytesIO(client.get(url, {**params, "export": "xlsx"}).content))
        values = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]
        assert not any(v.startswith(("=", "+", "-", "@")) for v in values), values
    text = client.get(reverse("changes:audit_export", args=[change.pk]), {"export": "csv"}).content.decode("utf-8-sig")
    last = list(csv.reader(io.StringIO(text)))[-1]
    assert last[3] == "'=cmd|' /C calc'!A0" and last[6] == f"'@SUM(1) {HOSTILE}\\x1b[31m"
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page and "\x1b" not in page


# -- the device page -------------------------------------------------------------------------------------------------
def test_the_device_page_lists_the_devices_changes_and_audit_entries(users, login):
    old = change_on(users["alice"], "nanjiang-agg-1", title="Older change", status=ChangeStatus.COMPLETED,
                    task_status=TaskStatus.CONFIRMED)
    new = change_on(users["alice"], "nanjiang-agg-1", title="Newer change")
    other = change_on(users["alice"], "zhongxin-agg-1", title="Someone else's router")
    device = Device.objects.get(name="nanjiang-agg-1")
    client = login(users["nj"])
    response = client.get(reverse("inventory:device", args=[device.pk]))
    page = response.content.decode()
    panel = page[page.index('class="changes-panel"'):]
    assert panel.index("Newer change") < panel.index("Older change") and other.title not in panel
    assert reverse("changes:detail", args=[new.pk]) in panel and reverse("changes:detail", args=[old.pk]) in panel
    assert "created in a test" not in panel  # the change's own entry has no device
    assert reverse("changes:device_audit_export", args=[device.pk]) in panel
    assert panel.count("dry run") >= 2
    text = client.get(reverse("changes:device_audit_export", args=[device.pk])).content.decode("utf-8-sig")
    assert f"#{new.pk}" in text and f"#{old.pk}" in text and f"#{other.pk}" not in text


# -- changes other pages ask for -------------------------------------------------------------------------------------
@pytest.fixture
def failing(users):
    from policies.models import RuleResult

    now = timezone.now()
    unreachable("nanjiang-t03-ar", "zhongxin-agg-1")

    def result(name, rule, remediation, status="fail"):
        return RuleResult.objects.create(device=Device.objects.get(name=name), rule=rule, status=status,
                                         severity="medium", remediation=remediation, checked_at=now, since=now)

    return {"ntp": result("nanjiang-t03-ar", "ntp.configured", ["ntp-service unicast-server 10.0.250.11"]),
            "syslog": result("nanjiang-t03-ar", "logging.remote-syslog", ["info-center loghost 10.0.250.10"]),
            "passing": result("nanjiang-t03-ar", "mgmt.ssh-only", [], status="pass"),
            "zhongxin": result("zhongxin-agg-1", "ntp.configured", ["ntp-service unicast-server 10.0.250.11"])}


def test_the_findings_page_offers_a_change_to_engineers_only(users, login, failing):
    url = reverse("compliance:findings")
    page = login(users["bob"]).get(url, {"device": "nanjiang-t03-ar"}).content.decode()
    assert f'action="{reverse("changes:from_findings")}"' in page
    assert f'name="result" value="{failing["ntp"].pk}" form="change-from-findings"' in page
    assert f'value="{failing["passing"].pk}" form=' not in page
    result_page = login(users["bob"]).get(reverse("compliance:result", args=[failing["ntp"].pk])).content.decode()
    assert reverse("changes:from_findings") in result_page
    device_page = login(users["bob"]).get(reverse("inventory:device", args=[failing["ntp"].device_id]))
    assert reverse("changes:from_findings") in device_page.content.decode()
    for role in ("boss", "analyst"):
        assert reverse("changes:from_findings") not in login(users[role]).get(url).content.decode()


def test_ticked_findings_become_one_change_with_their_remediation(users, login, failing):
    client = login(users["bob"])
    response = client.post(reverse("changes:from_findings"), {
        "result": [failing["ntp"].pk, failing["syslog"].pk, failing["passing"].pk, "x'; drop"],
        "reason": "monthly compliance"}, follow=True)
    change = ChangeRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("changes:detail", args=[change.pk])
    assert change.source == "compliance" and change.reason == "monthly compliance"
    assert sorted(change.rules) == ["logging.remote-syslog", "ntp.configured"]
    task = change.tasks.get()
    assert task.device.name == "nanjiang-t03-ar"
    assert sorted(task.lines) == ["info-center loghost 10.0.250.10", "ntp-service unicast-server 10.0.250.11"]
    assert change.status == "awaiting_approval"  # the dry run ran (INLINE): the device did not answer
    response = login(users["boss"]).post(reverse("changes:from_findings"), {"result": [failing["ntp"].pk],
                                                                            "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("compliance:findings")
    assert ChangeRequest.objects.count() == 1
    response = login(users["nj"]).post(reverse("changes:from_findings"), {"result": [failing["zhongxin"].pk]},
                                       follow=True)
    assert "CHANGE_NO_TARGETS" in messages_of(response) and ChangeRequest.objects.count() == 1


def test_the_egress_page_rolls_the_policy_out_to_the_failing_devices(users, login):
    from egress.models import EgressResult

    unreachable("nanjiang-agg-1")
    EgressResult.objects.create(device=Device.objects.get(name="nanjiang-agg-1"), rule="egress.smb-blocked",
                                status="fail", remediation=["acl number 3100", " rule 5 deny tcp destination-port "
                                                            "eq 445"], checked_at=timezone.now())
    page = login(users["bob"]).get(reverse("egress:index")).content.decode()
    assert f'action="{reverse("changes:egress_rollout")}"' in page
    assert reverse("changes:egress_rollout") not in login(users["boss"]).get(reverse("egress:index")).content.decode()
    response = login(users["bob"]).post(reverse("changes:egress_rollout"), {"reason": "SMB"}, follow=True)
    change = ChangeRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("changes:detail", args=[change.pk])
    assert change.source == "egress" and change.tasks.get().device.name == "nanjiang-agg-1"
    response = login(users["boss"]).post(reverse("changes:egress_rollout"), follow=True)
    assert "CHANGE_NOT_ALLOWED" in messages_of(response) and ChangeRequest.objects.count() == 1


def test_containment_asks_for_a_kind_and_a_located_alert(users, login):
    from threat.services.alerts import ingest_alerts

    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": src, "dst": None, "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 1,
                    "evidence": []} for src in ("10.19.1.77", "10.16.1.77")], "pcap", locate=False)
    from threat.models import Alert

    nanjiang, zhongxin = Alert.objects.get(src="10.19.1.77"), Alert.objects.get(src="10.16.1.77")
    client = login(users["analyst"])
    response = client.post(reverse("changes:contain", args=[nanjiang.pk]), {"kind": "format-disk"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("threat:alert", args=[nanjiang.pk]) and messages_of(response)
    response = client.post(reverse("changes:contain", args=[nanjiang.pk]), {"kind": "shutdown-port"}, follow=True)
    assert "THREAT_NOT_LOCATED" in messages_of(response)
    assert login(users["nj"]).post(reverse("changes:contain", args=[zhongxin.pk]),
                                   {"kind": "shutdown-port"}).status_code == 404
    assert client.get(reverse("changes:contain", args=[nanjiang.pk])).status_code == 405
    assert not ChangeRequest.objects.exists()


# -- the built-in templates ------------------------------------------------------------------------------------------
def test_the_built_in_templates_load_with_text_for_every_platform():
    from changes.services.library import load

    templates = load()
    assert set(templates) == {"ntp-servers", "remote-syslog", "login-banner", "vty-idle-timeout"}
    for template in templates.values():
        assert set(template.platforms) == {"huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"}
        assert template.title_zh and template.reason_zh


TEMPLATE_RULES = {"ntp-servers": ("ntp.configured", "no-ntp"),
                  "remote-syslog": ("logging.remote-syslog", "no-syslog"),
                  "vty-idle-timeout": ("mgmt.idle-timeout", "no-idle-timeout"),
                  "login-banner": ("mgmt.login-banner", "")}


@pytest.mark.parametrize("key", sorted(TEMPLATE_RULES))
def test_each_template_fixes_its_baseline_rule_on_every_platforms_lab_config(key):
    """The text is each platform's real syntax: applied to the lab's config with the fault planted (for the
    banner: with the banner removed), the baseline rule it serves passes."""
    from dataclasses import replace

    import platforms
    from changes.services.library import load
    from lab.ssh.configs import LabIndex, generate_config
    from lab.topology import generate
    from policies.engine import check_config

    rule, fault = TEMPLATE_RULES[key]
    topology = generate("demo", 1)
    index = LabIndex.build(topology)
    template = load()[key]
    for slug, text in template.platforms.items():
        device = next(d for d in topology.devices if d.platform == slug and d.role == "access"
                      and not re.search(r"-sw\d+$", d.name))
        config = generate_config(replace(device, faults=[fault] if fault else []), index)
        if not fault:
            config = "\n".join(line for line in config.splitlines() if not line.startswith(("header", "banner")))
        platform = platforms.get(slug)
        before = {f.rule: f.status for f in check_config(slug, config, device.role)}
        assert before[rule] == "fail", (slug, rule)
        after_tree = platform.parse(config).copy().apply_lines(text.splitlines())
        after = {f.rule: f.status for f in check_config(slug, after_tree.render(), device.role)}
        assert after[rule] == "pass", (slug, rule, text)


def test_a_bad_template_file_stops_start_up_naming_the_problem(tmp_path):
    from changes.services.library import load

    path = tmp_path / "templates.yaml"
    path.write_text("templates:\n  - key: Bad Key\n    title: x\n    title_zh: x\n    reason: x\n    reason_zh: x\n"
                    "    platforms: {junos: 'set system ntp'}\n  - key: ok\n    title: x\n    title_zh: ''\n"
                    "    reason: x\n    reason_zh: x\n    colour: red\n"
                    "    platforms: {cisco_ios: \"ntp server\\x1b\"}\n")
    with pytest.raises(ImproperlyConfigured) as raised:
        load(path)
    message = str(raised.value)
    for problem in ("field 'key'", "platforms.junos", "unknown platform", "(ok) field 'title_zh'", "colour",
                    "platforms.cisco_ios", "control character"):
        assert problem in message, problem
    path.write_text("templates: [")
    with pytest.raises(ImproperlyConfigured, match="not valid UTF-8 YAML"):
        load(path)
    path.write_text("- just a list\n")
    with pytest.raises(ImproperlyConfigured, match="'templates'"):
        load(path)


def test_views_and_templates_hold_no_inline_script_or_unescaped_text():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "changes" / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert "|safe" not in text and "autoescape off" not in text, template
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+=", text), template  # no inline event handlers
    assert AuditEntry.objects.count() == 0
