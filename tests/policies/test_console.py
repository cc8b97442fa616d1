"""The Compliance console: scores per county (市直单位 beside the counties), agency and rule with a daily trend;
findings with evidence and remediation; waivers within the user's scope and role; the MLPS evidence workbook.

Results come from the engine on the baseline's own rules (the egress.* rules are decided by egress.services,
written elsewhere; they are left out here) or are written directly where a test needs a particular one.
"""

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collectors.models import ConfigVersion
from inventory.models import Device, Region
from policies.engine import check_config
from policies.mlps import MLPS_EVIDENCE
from policies.models import RuleResult, ScoreSnapshot, Waiver
from policies.rules import RuleSet, rule_set
from policies.services import snapshot_scores, store

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "platforms" / "fixtures"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
HOSTILE_LINE = '<script>alert("x")</script>\x1b[31m'


def own_rules() -> RuleSet:
    rules = rule_set()
    return RuleSet(tuple(r for r in rules.rules if not r.delegated), rules.parameters)


def checked(name: str, config: str = "running") -> Device:
    """Device `name` with the VRP fixture config stored and checked by the engine (baseline rules)."""
    device = Device.objects.select_related("site__region").get(name=name)
    text = (FIXTURES / device.platform / f"{config}.conf").read_text()
    version = ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256=str(hash(text)), text=text)
    store(device, version, check_config(device.platform, text, device.role, rules=own_rules()))
    return device


@pytest.fixture
def results(demo_inventory):
    """Nanjiang's and Zhongxin's aggregation routers, a Nanjiang township router and a city agency's CPE (市直单位)."""
    return {name: checked(name, config) for name, config in [
        ("nanjiang-agg-1", "running"), ("nanjiang-t01-ar", "intended"), ("zhongxin-agg-1", "running"),
        ("ag-gov-office-cpe", "running")]}


@pytest.fixture
def login(client, make_user):
    def as_user(username, role, region=None):
        client.force_login(make_user(username, role, region=region))
        return client
    return as_user


def waive(rule="mgmt.ssh-only", days=30, owner=None, **scope):
    from django.contrib.auth import get_user_model

    owner = owner or get_user_model().objects.get_or_create(username="auditor")[0]
    return Waiver.objects.create(rule=rule, owner=owner, reason="new firmware in March",
                                 expires_at=timezone.now() + timedelta(days=days), **scope)


# -- pages per role --------------------------------------------------------------------------------------------------
def test_a_manager_sees_a_score_per_county_with_the_city_level_agencies_as_their_own_row(results, login):
    client = login("boss", "manager")
    response = client.get(reverse("compliance:overview"))
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.context["region_rows"]}
    assert {"南江县", "中心区", "City-level agencies and sites"} <= set(rows) or \
        {"南江县", "中心区", "市直单位"} <= set(rows)
    city_level = rows.get("市直单位") or rows["City-level agencies and sites"]
    assert city_level["fail"] > 0 and rows["南江县"]["pass"] > 0
    nanjiang_fail = RuleResult.objects.filter(device__name__startswith="nanjiang", status="fail").count()
    assert rows["南江县"]["fail"] == nanjiang_fail
    rules = {row["key"]: row for row in response.context["rule_rows"]}
    assert rules["mgmt.ssh-only"]["rule"].mlps == ("8.1.4.1 c)", "8.1.4.4 b)")
    page = response.content.decode()
    assert "8.1.4.1 c)" in page and "市政府办公室" in page  # the rule's clauses; the agency's row


def test_a_manager_drills_from_the_city_into_a_county(results, login):
    client = login("boss", "manager")
    response = client.get(reverse("compliance:overview"), {"region": "nanjiang"})
    names = [row["name"] for row in response.context["region_rows"]]
    assert "城关街道" not in names and any(name for name in names)  # Nanjiang's townships, not Zhongxin's
    assert response.context["root"].slug == "nanjiang"


def test_a_county_engineer_sees_only_their_county(results, login):
    client = login("engineer-nj", "engineer", region="nanjiang")
    page = client.get(reverse("compliance:overview")).content.decode()
    assert "南江县" in page and "中心区" not in page and "市政府办公室" not in page
    findings = client.get(reverse("compliance:findings")).content.decode()
    assert "nanjiang-agg-1" in findings and "zhongxin-agg-1" not in findings and "ag-gov-office-cpe" not in findings
    export = client.get(reverse("compliance:findings"), {"export": "csv"}).content.decode("utf-8-sig")
    assert "nanjiang-agg-1" in export and "zhongxin-agg-1" not in export
    zhongxin = RuleResult.objects.filter(device__name="zhongxin-agg-1").first()
    assert client.get(reverse("compliance:result", args=[zhongxin.pk])).status_code == 404
    assert client.get(reverse("compliance:overview"), {"region": "zhongxin"}).status_code == 404


def test_a_security_analyst_reads_compliance_but_gets_no_waiver_form(results, login):
    client = login("analyst", "security")
    assert client.get(reverse("compliance:overview")).status_code == 200
    page = client.get(reverse("compliance:waivers")).content.decode()
    assert reverse("compliance:waiver_create") not in page
    assert client.get(reverse("compliance:waiver_create")).status_code == 403
    device = results["nanjiang-agg-1"]
    assert client.post(reverse("compliance:waiver_create"), {
        "scope": "device", "device": device.name, "rule": "mgmt.ssh-only", "reason": "x",
        "valid_until": (timezone.localdate() + timedelta(days=3)).isoformat()}).status_code == 403
    assert not Waiver.objects.exists()


def test_the_navigation_has_a_compliance_section(results, login):
    page = login("boss", "manager").get(reverse("overview")).content.decode()
    assert f'href="{reverse("compliance:overview")}"' in page


# -- drill-down ------------------------------------------------------------------------------------------------------
def test_a_finding_shows_its_evidence_lines_with_numbers_and_its_remediation(results, login):
    client = login("eng", "engineer")
    page = client.get(reverse("compliance:findings"), {"rule": "mgmt.ssh-only", "device": "nanjiang-agg-1"}).content
    page = page.decode()
    evidence = re.search(r'<pre class="small evidence"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert re.search(r'<span class="line-number">23</span>protocol inbound all', evidence)
    remediation = re.search(r'<pre class="small remediation">(.*?)</pre>', page, re.S).group(1)
    assert " undo protocol inbound all" in remediation and " protocol inbound ssh" in remediation
    result = RuleResult.objects.get(device__name="nanjiang-agg-1", rule="mgmt.ssh-only")
    detail = client.get(reverse("compliance:result", args=[result.pk])).content.decode()
    assert "protocol inbound all" in detail and "protocol inbound ssh" in detail and "8.1.4.1 c)" in detail


def test_the_device_page_has_a_compliance_panel_after_the_collectors_panel(results, login):
    client = login("eng", "engineer")
    device = results["nanjiang-agg-1"]
    waive(device=device, rule="ntp.configured")
    page = client.get(reverse("inventory:device", args=[device.pk])).content.decode()
    panel = page[page.index('class="compliance-panel"'):]
    assert "protocol inbound all" in panel and "new firmware in March" in panel
    assert 'status-waived">' in panel
    assert page.index("compliance-panel") > page.index("Config versions" if "Config versions" in page else "配置版本")


def test_device_strings_are_escaped_and_control_characters_shown(results, login):
    result = RuleResult.objects.get(device__name="nanjiang-agg-1", rule="mgmt.ssh-only")
    result.evidence = [[99, HOSTILE_LINE]]
    result.remediation = ["=cmd|' /C calc'!A0", HOSTILE_LINE]
    result.message = f"{HOSTILE_LINE!r} is not allowed"
    result.save()
    client = login("eng", "engineer")
    for url in (reverse("compliance:findings"), reverse("compliance:result", args=[result.pk]),
                reverse("inventory:device", args=[result.device_id])):
        page = client.get(url, {"device": "nanjiang-agg-1"}).content.decode()
        assert '<script>alert("x")' not in page and "&lt;script&gt;alert(" in page
        assert "\x1b" not in page and "\\x1b[31m" in page


# -- waived shows as waived, counts apart ----------------------------------------------------------------------------
def test_a_waived_failure_shows_as_waived_and_counts_apart_until_it_expires(results, login):
    client = login("boss", "manager")
    device = results["nanjiang-agg-1"]
    before = {r["key"]: r for r in client.get(reverse("compliance:overview")).context["rule_rows"]}
    waiver = waive(region=Region.objects.get(slug="nanjiang"))
    during = {r["key"]: r for r in client.get(reverse("compliance:overview")).context["rule_rows"]}
    assert during["mgmt.ssh-only"]["waived"] == 2  # both Nanjiang routers fail it
    assert during["mgmt.ssh-only"]["fail"] == before["mgmt.ssh-only"]["fail"] - 2
    waived = client.get(reverse("compliance:findings"), {"status": "waived"})
    assert sorted(row["result"].device.name for row in waived.context["findings"]) == [device.name, "nanjiang-t01-ar"]
    assert {row["status"] for row in waived.context["findings"]} == {"waived"}
    assert "已豁免" in waived.content.decode() or "Waived" in waived.content.decode()
    failing = client.get(reverse("compliance:findings"), {"status": "fail", "rule": "mgmt.ssh-only"})
    assert [row["result"].device.name for row in failing.context["findings"]] == ["ag-gov-office-cpe",
                                                                                  "zhongxin-agg-1"]
    waiver.expires_at = timezone.now() - timedelta(seconds=1)
    waiver.save()
    after = {r["key"]: r for r in client.get(reverse("compliance:overview")).context["rule_rows"]}
    assert after["mgmt.ssh-only"]["waived"] == 0 and after["mgmt.ssh-only"]["fail"] == before["mgmt.ssh-only"]["fail"]


def test_the_pages_count_as_waived_exactly_what_the_scores_service_does(results, make_user):
    from policies.services import waived_pairs, with_shown_status

    waive(rule="", device=results["zhongxin-agg-1"])
    waive(rule="ntp.configured", device=results["nanjiang-agg-1"])
    waive(rule="mgmt.login-banner", region=Region.objects.get(slug="nanjiang-t01"))
    waive(rule="aaa.password-complexity")
    waive(rule="mgmt.acl-restricted", region=Region.objects.get(slug="city"), days=-1)  # expired
    shown = {(r.device_id, r.rule) for r in with_shown_status(RuleResult.objects.all()) if r.shown == "waived"}
    assert shown == waived_pairs(RuleResult.objects.all()) and len(shown) > 5


def test_a_device_waiver_without_a_rule_waives_every_failure_of_the_device(results, login):
    waive(rule="", device=results["zhongxin-agg-1"])
    response = login("boss", "manager").get(reverse("compliance:findings"), {"device": "zhongxin-agg-1"})
    statuses = {row["result"].rule: row["status"] for row in response.context["findings"]}
    assert statuses["mgmt.ssh-only"] == "waived" and statuses["mgmt.no-http"] == "pass"
    assert "fail" not in statuses.values()


# -- the waiver forms ------------------------------------------------------------------------------------------------
def form(**values):
    data = {"scope": "device", "device": "", "region": "", "rule": "mgmt.ssh-only", "reason": "vendor fix pending",
            "valid_until": (timezone.localdate() + timedelta(days=30)).isoformat()}
    return {**data, **values}


def test_a_county_engineer_waives_a_device_of_their_county_and_owns_the_waiver(results, login):
    client = login("engineer-nj", "engineer", region="nanjiang")
    response = client.post(reverse("compliance:waiver_create"), form(device="nanjiang-agg-1"))
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    assert waiver.owner.username == "engineer-nj" and waiver.device.name == "nanjiang-agg-1"
    end_of_day = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=31), datetime.min.time()))
    assert waiver.expires_at == end_of_day
    assert "vendor fix pending" in client.get(reverse("compliance:waivers")).content.decode()


@pytest.mark.parametrize("values, field", [
    ({"device": "zhongxin-agg-1"}, "device"),  # another county's device
    ({"device": "no-such-device"}, "device"),
    ({"scope": "region", "region": "zhongxin"}, "region"),  # another county
    ({"scope": "region", "region": "city"}, "region"),  # the city contains Nanjiang but is wider than the scope
    ({"scope": "region", "region": "nanjiang", "rule": ""}, "rule"),  # a region waiver names its rule
    ({"scope": "everywhere"}, "scope"),  # only a whole-network user waives a rule everywhere
    ({"device": "nanjiang-agg-1", "valid_until": ""}, "valid_until"),  # expiry required
    ({"device": "nanjiang-agg-1", "valid_until": "2020-01-01"}, "valid_until"),  # in the past
    ({"device": "nanjiang-agg-1", "valid_until": (timezone.localdate() + timedelta(days=400)).isoformat()},
     "valid_until"),  # beyond MAX_WAIVER_DAYS
    ({"device": "nanjiang-agg-1", "reason": "   "}, "reason"),
    ({"device": "nanjiang-agg-1", "rule": "no.such-rule"}, "rule"),
])
def test_a_county_engineer_cannot_waive_outside_their_scope_or_without_a_future_expiry(results, login, values,
                                                                                         field):
    client = login("engineer-nj", "engineer", region="nanjiang")
    response = client.post(reverse("compliance:waiver_create"), form(**values))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Waiver.objects.exists()


def test_a_county_engineer_waives_a_rule_across_a_township_of_their_county(results, login):
    client = login("engineer-nj", "engineer", region="nanjiang")
    assert client.post(reverse("compliance:waiver_create"), form(scope="region", region="nanjiang-t01")).status_code \
        == 302
    assert Waiver.objects.get().region.slug == "nanjiang-t01"


def test_a_city_engineer_waives_a_rule_everywhere(results, login):
    client = login("city-eng", "engineer")
    assert client.post(reverse("compliance:waiver_create"), form(scope="everywhere")).status_code == 302
    waiver = Waiver.objects.get()
    assert (waiver.device, waiver.region, waiver.rule) == (None, None, "mgmt.ssh-only")
    statuses = {r.device.name: r.shown for r in client.get(reverse("compliance:findings"), {
        "rule": "mgmt.ssh-only"}).context["page"].object_list}
    assert set(statuses.values()) == {"waived"}


def test_a_manager_cannot_waive_or_expire(results, login):
    waiver = waive(device=results["nanjiang-agg-1"])
    client = login("boss", "manager")
    assert client.post(reverse("compliance:waiver_create"), form(device="nanjiang-agg-1")).status_code == 403
    assert client.post(reverse("compliance:waiver_expire", args=[waiver.pk])).status_code == 403
    assert Waiver.objects.active().count() == 1


def test_an_engineer_expires_a_waiver_of_their_county_but_not_another_county_s(results, login):
    mine = waive(device=results["nanjiang-agg-1"])
    theirs = waive(device=results["zhongxin-agg-1"])
    citywide = waive(rule="ntp.configured")
    client = login("engineer-nj", "engineer", region="nanjiang")
    assert client.post(reverse("compliance:waiver_expire", args=[mine.pk])).status_code == 302
    assert client.post(reverse("compliance:waiver_expire", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("compliance:waiver_expire", args=[citywide.pk])).status_code == 404
    assert list(Waiver.objects.active().order_by("pk")) == [theirs, citywide]
    assert client.get(reverse("compliance:waiver_expire", args=[mine.pk])).status_code == 405


def test_the_waiver_list_shows_the_county_s_waivers_and_the_wider_ones_that_cover_it(results, login):
    waive(device=results["nanjiang-agg-1"], rule="ntp.configured")
    waive(device=results["zhongxin-agg-1"], rule="mgmt.login-banner")
    waive(rule="mgmt.acl-restricted", region=Region.objects.get(slug="zhongxin"))
    waive(rule="mgmt.idle-timeout")  # everywhere
    response = login("engineer-nj", "engineer", region="nanjiang").get(reverse("compliance:waivers"))
    assert [w.rule for w in response.context["waivers"]] == ["ntp.configured"]
    assert [w.rule for w in response.context["wider"]] == ["mgmt.idle-timeout"]
    page = response.content.decode()
    assert "zhongxin" not in page and "中心区" not in page


# -- exports ---------------------------------------------------------------------------------------------------------
def test_the_findings_export_holds_no_control_character_and_no_formula(results, login):
    result = RuleResult.objects.get(device__name="nanjiang-agg-1", rule="mgmt.ssh-only")
    result.evidence = [[1, HOSTILE_LINE], [2, "=HYPERLINK(\"http://x\")"]]
    result.remediation = ["@SUM(1)", "-2+3"]
    result.save()
    client = login("eng", "engineer")
    text = client.get(reverse("compliance:findings"), {"export": "csv", "device": "nanjiang-agg-1"}) \
        .content.decode("utf-8-sig")
    assert not CONTROL.search(text) and "\\x1b[31m" in text
    rows = {row[4]: row for row in csv.reader(io.StringIO(text))}
    assert rows["mgmt.ssh-only"][11].startswith("1: <script>")
    assert rows["mgmt.ssh-only"][12].startswith("'@SUM(1)")
    book = load_workbook(io.BytesIO(client.get(reverse("compliance:findings"), {
        "export": "xlsx", "device": "nanjiang-agg-1"}).content))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    assert not any(CONTROL.search(c) for c in cells) and not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_the_score_tables_export(results, login):
    client = login("boss", "manager")
    for table in ("regions", "agencies", "rules"):
        for kind in ("csv", "xlsx"):
            assert client.get(reverse("compliance:overview"), {"export": kind, "table": table}).status_code == 200
    rules = client.get(reverse("compliance:overview"), {"export": "csv", "table": "rules"}).content.decode("utf-8-sig")
    assert "mgmt.ssh-only" in rules and "8.1.4.1 c)" in rules


def test_the_waiver_list_exports(results, login):
    waive(device=results["nanjiang-agg-1"])
    client = login("boss", "manager")
    text = client.get(reverse("compliance:waivers"), {"export": "csv"}).content.decode("utf-8-sig")
    assert "new firmware in March" in text and "nanjiang-agg-1" in text
    assert client.get(reverse("compliance:waivers"), {"export": "xlsx"}).status_code == 200


def mlps_book(client, **query):
    response = client.get(reverse("compliance:mlps_export"), query)
    assert response.status_code == 200 and response["Content-Disposition"].endswith(".xlsx")
    return load_workbook(io.BytesIO(response.content))


def sheet_rows(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return rows[1], [dict(zip(rows[1], row, strict=False)) for row in rows[2:]]


def test_the_mlps_workbook_has_a_summary_and_one_sheet_per_clause_with_the_county_s_devices(results, login):
    waive(rule="ntp.configured", device=results["nanjiang-agg-1"])
    client = login("engineer-nj", "engineer", region="nanjiang")
    book = mlps_book(client)
    clauses = sorted({c for rule in rule_set().rules for c in rule.mlps})
    assert book.sheetnames[0] == "汇总 Summary" and sorted(book.sheetnames[1:]) == sorted(clauses)
    assert all(len(name) <= 31 and not re.search(r"[\\/*?:\[\]]", name) for name in book.sheetnames)
    header, rows = sheet_rows(book["8.1.4.1 c)"])
    assert header[0] == "设备 Device" and header[7] == "状态 Status"
    assert {row["设备 Device"] for row in rows} == {"nanjiang-agg-1", "nanjiang-t01-ar"}
    assert {row["规则 Rule"] for row in rows} == {"mgmt.ssh-only"}
    ssh = next(row for row in rows if row["设备 Device"] == "nanjiang-agg-1")
    assert ssh["状态 Status"] == "不通过 Fail" and "23: protocol inbound all" in ssh[MLPS_EVIDENCE]
    assert "protocol inbound ssh" in ssh["整改 Remediation"]
    assert isinstance(ssh["检查时间 Checked at"], datetime)  # a real date, not text
    _header, ntp = sheet_rows(book["8.1.4.3 b)"])
    waived = next(row for row in ntp if row["设备 Device"] == "nanjiang-agg-1")
    assert waived["状态 Status"] == "已豁免 Waived" and waived["豁免原因 Waiver reason"] == "new firmware in March"
    assert isinstance(waived["豁免到期 Waiver expires"], datetime)
    summary = list(book["汇总 Summary"].iter_rows(values_only=True))
    assert ("范围 Scope", "南江县") in [row[:2] for row in summary]
    clause_rows = {row[0]: row for row in summary if row and row[0] in clauses}
    assert set(clause_rows) == set(clauses) and clause_rows["8.1.4.3 b)"][6] == 1  # the waived one
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not any("zhongxin" in c or "中心区" in c for c in cells)


def test_the_mlps_workbook_of_the_city_covers_every_county_and_the_city_level(results, login):
    book = mlps_book(login("boss", "manager"))
    _header, rows = sheet_rows(book["8.1.4.1 c)"])
    assert {row["设备 Device"] for row in rows} == set(results)
    counties = {row["设备 Device"]: row["区县 County/district"] for row in rows}
    assert counties["zhongxin-agg-1"] == "中心区" and counties["ag-gov-office-cpe"] in (
        "市直单位", "City-level agencies and sites")
    assert mlps_book(login("boss2", "manager"), region="zhongxin")["8.1.4.1 c)"].max_row == 3  # title, header, 1


def test_the_mlps_workbook_of_another_county_is_not_found(results, login):
    client = login("engineer-nj", "engineer", region="nanjiang")
    assert client.get(reverse("compliance:mlps_export"), {"region": "zhongxin"}).status_code == 404


# -- secrets ---------------------------------------------------------------------------------------------------------
def test_secrets_in_evidence_and_remediation_are_masked_for_everyone_but_admin(results, login):
    result = RuleResult.objects.get(device__name="nanjiang-agg-1", rule="snmp.no-default-community")
    assert result.evidence == [[7, "snmp-agent community read public"]]
    page = login("eng", "engineer").get(reverse("compliance:result", args=[result.pk])).content.decode()
    assert "read public" not in page and "snmp-agent community read &lt;secret:" in page
    assert "undo snmp-agent community read &lt;secret:" in page
    book = mlps_book(login("eng2", "engineer"))
    assert not any("read public" in str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row)
    admin = login("root", "admin").get(reverse("compliance:result", args=[result.pk])).content.decode()
    assert "snmp-agent community read public" in admin


def test_a_search_cannot_probe_masked_messages(results, login):
    client = login("eng", "engineer")
    assert client.get(reverse("compliance:findings"), {"q": "public"}).context["total"] == 0


# -- the trend -------------------------------------------------------------------------------------------------------
def test_the_trend_reads_daily_snapshots_and_ends_with_the_current_state(results, login):
    today = timezone.localdate()
    snapshot_scores(today - timedelta(days=2))
    snapshot_scores()  # today's, replaced by the live state on the page anyway
    nanjiang = Region.objects.get(slug="nanjiang")
    assert ScoreSnapshot.objects.filter(date=today - timedelta(days=2), region=nanjiang).exists()
    assert ScoreSnapshot.objects.filter(region__level="village").count() == 0
    city = ScoreSnapshot.objects.get(date=today, region__slug="city")
    assert city.passed + city.failed + city.waived + city.not_applicable == RuleResult.objects.count()
    client = login("boss", "manager")
    response = client.get(reverse("compliance:overview"), {"days": "7"})
    trend = response.context["trend"]
    assert len(trend["dates"]) == 7 and trend["dates"][-1] == today.isoformat()
    series = {s["name"]: s["data"] for s in trend["series"]}
    assert series["南江县"][-3] is not None and series["南江县"][-2] is None  # no snapshot yesterday
    assert series["南江县"][-1] == next(r["score"] for r in response.context["region_rows"] if r["name"] == "南江县")
    page = response.content.decode()
    assert '<script id="compliance-trend-data" type="application/json">' in page
    assert not re.search(r"<script(?![^>]*(\bsrc=|application/json))", page)  # no inline script (CSP)


def test_a_county_user_s_trend_holds_only_their_county(results, login):
    snapshot_scores(timezone.localdate() - timedelta(days=1))
    response = login("engineer-nj", "engineer", region="nanjiang").get(reverse("compliance:overview"))
    names = [s["name"] for s in response.context["trend"]["series"]]
    assert names[0] == "南江县" and "中心区" not in names


def test_the_snapshot_task_is_scheduled_with_beat_and_takes_today_s_snapshot(results):
    from policies.tasks import SNAPSHOT_TASK, snapshot_scores
    from web.celery import app

    assert any(entry["task"] == SNAPSHOT_TASK for entry in app.conf.beat_schedule.values())
    assert snapshot_scores.run()["date"] == timezone.localdate().isoformat()
    assert ScoreSnapshot.objects.filter(date=timezone.localdate(), region__slug="nanjiang").exists()


def test_the_admin_lists_results_read_only_and_waivers_editable(results, client, make_user):
    client.force_login(make_user("root", "admin", superuser=True))
    assert client.get(reverse("admin:policies_ruleresult_changelist")).status_code == 200
    assert client.get(reverse("admin:policies_ruleresult_add")).status_code == 403
    assert client.get(reverse("admin:policies_waiver_add")).status_code == 200
    assert client.get(reverse("admin:policies_ruleevent_changelist")).status_code == 200
