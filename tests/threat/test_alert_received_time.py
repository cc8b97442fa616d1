"""An alert carries two times: when it happened (first/last seen, from the capture's packet timestamps) and when
OneNet received it (`received_at`, set once, at the alert's first ingest). The queue lists what arrived last first
(then the most severe), and the queue and the alert page show both times in the configured time zone."""

import datetime

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from lab.traffic import write_scenario
from threat.models import Alert
from threat.services.alerts import ingest_alerts
from threat.services.scan import scan_captures

pytestmark = pytest.mark.django_db

CAPTURED = "2017-05-12T03:47:00Z"  # WannaCry's Friday: 11:47 in Asia/Shanghai
RECEIVED = datetime.datetime(2026, 5, 12, 1, 23, tzinfo=datetime.UTC)  # 09:23 in Asia/Shanghai
DESIGN_KEYS = {"kind", "severity", "src", "dst", "dport", "first_seen", "last_seen", "count", "evidence"}


def row(src, kind="eternalblue", severity="critical", first=CAPTURED, count=1):
    return {"kind": kind, "severity": severity, "src": src, "dst": "10.19.1.30", "dport": 445, "first_seen": first,
            "last_seen": first, "count": count, "evidence": [f"{kind} from {src}"]}


@pytest.fixture
def security(client, make_user):
    client.force_login(make_user("analyst", "security"))
    return client


def test_an_alert_keeps_the_time_onenet_first_received_it_apart_from_its_capture_time(demo_inventory):
    before = timezone.now()
    ingest_alerts([row("10.19.1.20")], "pcap", locate=False)
    after = timezone.now()
    alert = Alert.objects.get()
    assert before <= alert.received_at <= after
    assert alert.first_seen == alert.last_seen == datetime.datetime(2017, 5, 12, 3, 47, tzinfo=datetime.UTC)
    received = alert.received_at
    ingest_alerts([row("10.19.1.20", count=5)], "pcap", locate=False)  # seen again: more events, same alert
    alert.refresh_from_db()
    assert alert.count == 5 and alert.received_at == received


def test_the_queue_lists_the_last_received_first_then_the_most_severe(demo_inventory, security):
    ingest_alerts([row("10.19.1.21", "smbv1", "low", "2026-05-12T08:00:00Z"),
                   row("10.19.1.22", "eternalblue", "critical", "2026-05-12T08:00:00Z")], "pcap", locate=False)
    Alert.objects.update(received_at=F("received_at") - datetime.timedelta(minutes=1))  # a minute ago
    # received later, though captured years earlier: an old capture an analyst just fed in
    ingest_alerts([row("10.19.1.23", "smbv1", "low", "2017-05-12T08:00:00Z"),
                   row("10.19.1.24", "smb-scan", "high", "2017-05-12T08:00:00Z")], "pcap", locate=False)
    rows = security.get(reverse("threat:alerts")).context["rows"]
    assert [r["cells"][3] for r in rows] == ["10.19.1.24", "10.19.1.23", "10.19.1.22", "10.19.1.21"]


def test_the_queue_and_the_alert_page_show_both_times_in_the_configured_zone(demo_inventory, security):
    ingest_alerts([row("10.19.1.20")], "pcap", locate=False)
    Alert.objects.update(received_at=RECEIVED)
    alert = Alert.objects.get()
    local = {name: timezone.localtime(value).strftime("%H:%M")
             for name, value in (("captured", alert.first_seen), ("received", alert.received_at))}
    assert local == {"captured": "11:47", "received": "09:23"}  # the configured zone is not UTC
    for url in (reverse("threat:alert_list"), reverse("threat:alert", args=[alert.pk])):
        page = security.get(url).content.decode()
        assert local["captured"] in page and local["received"] in page, url
        assert "03:47" not in page and "01:23" not in page, url
    detail = security.get(reverse("threat:alert", args=[alert.pk])).content.decode()
    assert "2026-05-12 09:23" in detail and "2017-05-12 11:47" in detail


def test_scan_ingest_json_adds_each_alerts_id_and_received_time(demo_inventory, tmp_path):
    path = tmp_path / "eternalblue.pcap"
    write_scenario("eternalblue", path, seed=1)
    plain = scan_captures([path])
    assert all(set(a) == DESIGN_KEYS for a in plain["alerts"])
    before = timezone.now()
    result = scan_captures([path], ingest=True, locate=False)
    stored = {a.pk: a for a in Alert.objects.all()}
    for alert in result["alerts"]:
        assert set(alert) == DESIGN_KEYS | {"alert", "received_at"}
        received = datetime.datetime.fromisoformat(alert["received_at"].replace("Z", "+00:00"))
        assert received >= before and alert["received_at"].endswith("Z")
        assert stored[alert["alert"]].kind == alert["kind"]
        assert received == stored[alert["alert"]].received_at


@pytest.mark.django_db(transaction=True)
def test_alerts_stored_before_the_field_existed_are_received_when_they_were_created(demo_inventory):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("threat", "0002_containment_moves_to_changes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    OldAlert = executor.loader.project_state(before).apps.get_model("threat", "Alert")
    old = OldAlert.objects.create(kind="eternalblue", severity="critical", source="pcap", src="10.19.1.13",
                                  first_seen="2017-05-12T03:47:00Z", last_seen="2017-05-12T03:48:00Z")
    OldAlert.objects.filter(pk=old.pk).update(created_at=RECEIVED)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Alert.objects.get(pk=old.pk).received_at == RECEIVED
