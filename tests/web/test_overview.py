"""The manager's Overview: is the network OK today? Cards that drill down to exactly what they count, and a county
table (the counties and the city's own agencies and sites, 市直单位) whose rows add up to the cards."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collectors.models import BackupState, DeviceState, InterfaceSample
from inventory.models import Device, Interface, Link, Site
from web.overview import CITY, overview

pytestmark = pytest.mark.django_db

COUNTED = ("devices", "silent", "alerts", "busy", "backups", "coverage")  # the cards whose rows add up to their figure
THREAT_SOURCES = {"nanjiang": "10.19.1.77", "zhongxin": "10.16.1.77"}


@pytest.fixture
def morning(demo_inventory):
    """A morning on the demo network: most devices answer and are backed up; a few in two counties and at the city
    level do not; a busy link per county; open (and one resolved) alerts."""
    from threat.services.alerts import ingest_alerts

    now = timezone.now()
    devices = Device.objects.filter(status="active")
    DeviceState.objects.bulk_create([DeviceState(device=d, snmp_state="up", last_poll_at=now, last_poll_ok_at=now,
                                                 backup_state=BackupState.OK, last_backup_ok_at=now)
                                     for d in devices])
    silent = {"nanjiang-t01-ar": now - timedelta(hours=3), "zhongxin-agg-1": None}
    city_device = devices.filter(site__region__level="city").order_by("name").first()
    silent[city_device.name] = now - timedelta(days=2)
    for name, since in silent.items():
        DeviceState.objects.filter(device__name=name).update(snmp_state="unreachable", last_poll_ok_at=since)
    DeviceState.objects.filter(device__name="nanjiang-agg-1").update(backup_state=BackupState.FAILED)
    DeviceState.objects.filter(device__name="zhongxin-t01-ar").update(last_backup_ok_at=now - timedelta(days=5))
    for slug in ("nanjiang", "zhongxin"):
        link = Link.objects.get(b_interface__device__name=f"{slug}-t01-ar")
        for interface in (link.a_interface, link.b_interface):
            InterfaceSample.objects.create(interface=interface, time=now, in_bps=link.capacity_bps * 0.9,
                                           out_bps=link.capacity_bps * 0.5, in_utilisation=0.9, out_utilisation=0.5)
    ingest_alerts([{"kind": "smb-scan", "severity": severity, "src": src, "dst": None, "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 1,
                    "evidence": [f"from {src}"]}
                   for src, severity in [(THREAT_SOURCES["nanjiang"], "critical"), (THREAT_SOURCES["zhongxin"], "high"),
                                         ("10.19.1.78", "medium")]], "pcap", locate=False)
    return {"silent": silent, "city_device": city_device.name}


def cards_of(figures):
    return {card.key: card for card in figures["cards"]}


def assert_rows_add_up(figures):
    cards = cards_of(figures)
    for key in COUNTED:
        card = cards[key]
        assert sum(row["figures"][key] for row in figures["rows"]) == card.figure, key


def test_the_county_table_adds_up_to_every_card_for_a_manager(morning, make_user):
    figures = overview(make_user("boss", "manager"))
    assert_rows_add_up(figures)
    rows = {row["key"]: row for row in figures["rows"]}
    assert CITY in rows and "nanjiang" in rows and "zhongxin" in rows
    cards = cards_of(figures)
    assert cards["silent"].figure == 3
    assert rows[CITY]["figures"]["silent"] == 1  # 市直单位: the city level's own device only
    assert rows["nanjiang"]["figures"]["silent"] == rows["zhongxin"]["figures"]["silent"] == 1
    assert cards["alerts"].figure == 3 and rows["nanjiang"]["figures"]["alerts"] == 2
    assert cards["busy"].figure == 2
    assert cards["backups"].figure == 2
    # The coverage card counts connected sites: its rows (the counties and the city's own) add up to it.
    assert cards["coverage"].figure == Site.objects.filter(expected=True, devices__status="active").distinct().count()


def test_a_county_user_sees_their_county_only_and_it_adds_up(morning, make_user):
    figures = overview(make_user("engineer-nj", "engineer", region="nanjiang"))
    assert [row["key"] for row in figures["rows"]] == ["nanjiang"]
    assert_rows_add_up(figures)
    cards = cards_of(figures)
    assert cards["silent"].figure == 1 and cards["alerts"].figure == 2 and cards["backups"].figure == 1
    assert [row["cells"][0] for row in cards["silent"].items()] == ["nanjiang-t01-ar"]


def test_the_overview_page_names_devices_not_answering_with_since_when(client, morning, make_user):
    client.force_login(make_user("boss", "manager"))
    page = client.get(reverse("overview")).content.decode()
    assert "zhongxin-agg-1" in page and "nanjiang-t01-ar" in page and morning["city_device"] in page
    since = timezone.localtime(morning["silent"]["nanjiang-t01-ar"])
    assert f"{since:%Y-%m-%d %H:%M}" in page
    assert "市直单位" in page or "City-level agencies and sites" in page


@pytest.mark.parametrize("key", ["silent", "alerts", "busy", "expansion", "backups"])
def test_each_card_drills_down_to_exactly_what_it_counts(client, morning, make_user, key):
    user = make_user("boss", "manager")
    client.force_login(user)
    card = cards_of(overview(user))[key]
    response = client.get(reverse("overview_items"), {"card": key})
    assert response.status_code == 200
    listed = [row["cells"][0] for row in response.context["rows"]]
    assert len(listed) == card.figure
    assert sorted(map(str, listed)) == sorted(str(row["cells"][0]) for row in card.items())
    for row in overview(user)["rows"]:
        per_county = client.get(reverse("overview_items"), {"card": key, "county": row["key"]})
        assert len(per_county.context["rows"]) == row["figures"][key]
    export = client.get(reverse("overview_items"), {"card": key, "export": "csv"}).content.decode("utf-8-sig")
    assert len(export.strip().splitlines()) == card.figure + 1


def test_devices_not_answering_are_listed_with_their_last_answer(client, morning, make_user):
    client.force_login(make_user("boss", "manager"))
    response = client.get(reverse("overview_items"), {"card": "silent"})
    rows = {row["cells"][0]: row for row in response.context["rows"]}
    assert set(rows) == set(morning["silent"])
    assert rows["nanjiang-t01-ar"]["since"] == morning["silent"]["nanjiang-t01-ar"]
    assert rows["zhongxin-agg-1"]["since"] is None  # never answered, listed first
    assert next(iter(rows)) == "zhongxin-agg-1"


def test_the_overview_makes_the_same_number_of_queries_whatever_the_number_of_devices(client, morning, make_user):
    client.force_login(make_user("boss", "manager"))
    client.get(reverse("overview"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as before:
        assert client.get(reverse("overview")).status_code == 200
    site = Site.objects.get(slug="nanjiang-hub")
    template = Device.objects.get(name="nanjiang-agg-1")
    for i in range(40):
        device = Device.objects.create(name=f"extra-{i}", address=f"10.250.0.{i + 1}", platform=template.platform,
                                       role="access", site=site, status="active")
        Interface.objects.create(device=device, name="GE0/0/1", if_index=1)
        DeviceState.objects.create(device=device, snmp_state="unreachable",
                                   last_poll_ok_at=timezone.now() - timedelta(days=1))
    with CaptureQueriesContext(connection) as after:
        page = client.get(reverse("overview"))
    assert "extra-0" in client.get(reverse("overview_items"), {"card": "silent"}).content.decode()
    assert page.status_code == 200
    assert len(after.captured_queries) <= len(before.captured_queries)


def test_the_compliance_score_per_county_comes_from_counts_that_add_up(morning, make_user):
    from policies.models import RuleResult

    now = timezone.now()
    outcomes = {"nanjiang-agg-1": ["pass", "fail"], "zhongxin-agg-1": ["pass", "pass", "pass", "fail"]}
    city_device = morning["city_device"]
    outcomes[city_device] = ["fail"]
    for name, statuses in outcomes.items():
        for i, status in enumerate(statuses):
            RuleResult.objects.create(device=Device.objects.get(name=name), rule=f"rule.{i}", status=status,
                                      severity="high", checked_at=now, since=now)
    figures = overview(make_user("boss", "manager"))
    card = cards_of(figures)["compliance"]
    assert card.counts == {"nanjiang": (1, 1), "zhongxin": (3, 1), CITY: (0, 1)}
    assert card.by_county["nanjiang"] == 0.5 and card.by_county["zhongxin"] == 0.75 and card.by_county[CITY] == 0.0
    assert card.figure == 4 / 7
    rows = {row["key"]: row for row in figures["rows"]}
    assert rows["zhongxin"]["figures"]["compliance"] == 0.75
    county = cards_of(overview(make_user("engineer-nj", "engineer", region="nanjiang")))["compliance"]
    assert county.figure == 0.5 and county.counts == {"nanjiang": (1, 1)}
