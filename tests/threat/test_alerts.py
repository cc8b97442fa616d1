"""Alert ingest and triage: lab captures become located alerts; dedup, idempotence, transitions, EVE, metrics."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.models import Prefix
from lab.traffic import write_scenario
from threat.choices import AlertStatus, EventKind
from threat.models import Alert, AlertEvent
from threat.services import ThreatError
from threat.services.alerts import add_note, assign, change_status, ingest_alerts
from threat.services.eve import import_eve, read_eve
from threat.services.scan import scan_captures

pytestmark = pytest.mark.django_db

EXPECTED_KINDS = {
    "eternalblue": {"eternalblue", "doublepulsar", "ms17-010", "smbv1"},
    "wannacry": {"eternalblue", "doublepulsar", "ms17-010", "smbv1", "smb-scan", "wannacry-killswitch"},
    "scan": {"smb-scan"},
    "smb1-benign": {"smbv1"},
    "portscan": set(),
    "office": set(),
}


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("captures")
    paths = {}
    for scenario in EXPECTED_KINDS:
        paths[scenario] = folder / f"{scenario}.pcap"
        write_scenario(scenario, paths[scenario], seed=1)
    return paths


def row(kind="eternalblue", src="10.19.1.20", dst="10.19.1.30", first="2026-05-12T08:00:00Z", last=None, count=1,
        evidence=("e1",), severity="critical", dport=445):
    return {"kind": kind, "severity": severity, "src": src, "dst": dst, "dport": dport, "first_seen": first,
            "last_seen": last or first, "count": count, "evidence": list(evidence)}


@pytest.mark.parametrize("scenario", sorted(EXPECTED_KINDS))
def test_ingesting_a_lab_capture_creates_one_alert_per_kind_and_source_located_to_agency_and_site(
        demo_inventory, captures, scenario):
    result = scan_captures([captures[scenario]], ingest=True, locate=False)
    alerts = list(Alert.objects.select_related("agency", "site", "region"))
    assert {a.kind for a in alerts} == EXPECTED_KINDS[scenario]
    assert len(alerts) == len({(a["kind"], a["src"]) for a in result["alerts"]})
    assert result["ingested"]["created"] == len(alerts)
    for alert in alerts:
        prefix = Prefix.objects.longest_match(alert.src)
        assert alert.agency is not None and alert.agency == prefix.agency
        assert alert.site == prefix.site
        assert alert.region == prefix.site.region
        assert alert.source == "pcap"
        assert alert.events.filter(kind=EventKind.CREATED).exists()


def test_rescanning_the_same_capture_changes_nothing(demo_inventory, captures):
    first = scan_captures([captures["wannacry"]], ingest=True, locate=False)["ingested"]
    before = {a.pk: (a.count, a.last_seen, list(a.evidence)) for a in Alert.objects.all()}
    events = AlertEvent.objects.count()
    again = scan_captures([captures["wannacry"]], ingest=True, locate=False)["ingested"]
    assert first["created"] == len(before) and first["created"] > 0
    assert again["created"] == 0 and again["updated"] == 0 and again["unchanged"] == len(first["alerts"])
    assert {a.pk: (a.count, a.last_seen, list(a.evidence)) for a in Alert.objects.all()} == before
    assert AlertEvent.objects.count() == events


def test_the_same_kind_from_the_same_source_within_the_window_updates_one_open_alert(demo_inventory):
    ingest_alerts([row(dst="10.19.1.30", evidence=["first attack"])], "pcap", locate=False)
    result = ingest_alerts([row(dst="10.19.1.31", first="2026-05-12T08:20:00Z", count=3,
                                evidence=["second attack"])], "pcap", locate=False)
    assert result["created"] == 0 and result["updated"] == 1
    alert = Alert.objects.get()
    assert alert.count == 4
    assert alert.last_seen.isoformat().startswith("2026-05-12T08:20:00")
    assert alert.first_seen.isoformat().startswith("2026-05-12T08:00:00")
    assert "first attack" in alert.evidence and "second attack" in alert.evidence
    assert any("10.19.1.31" in e for e in alert.evidence)


def test_outside_the_window_or_from_another_source_a_new_alert_is_added(demo_inventory, settings):
    settings.ONENET_ALERT_DEDUP_WINDOW_S = 600
    ingest_alerts([row()], "pcap", locate=False)
    ingest_alerts([row(first="2026-05-12T09:00:00Z")], "pcap", locate=False)
    ingest_alerts([row(src="10.19.1.21")], "pcap", locate=False)
    ingest_alerts([row(kind="smbv1", severity="low")], "pcap", locate=False)
    assert Alert.objects.count() == 4


def test_evidence_stays_capped_when_an_alert_keeps_growing(demo_inventory):
    for minute in range(30):
        ingest_alerts([row(first=f"2026-05-12T08:{minute:02d}:00Z", evidence=[f"hit {minute}"])], "pcap",
                      locate=False)
    alert = Alert.objects.get()
    assert alert.count == 30 and len(alert.evidence) == 20


def test_a_sensor_flushing_a_growing_alert_adds_only_the_growth(demo_inventory):
    ingest_alerts([row(count=2)], "sensor", locate=False)
    ingest_alerts([row(count=2)], "sensor", locate=False)
    ingest_alerts([row(count=5, last="2026-05-12T08:00:03Z")], "sensor", locate=False)
    alert = Alert.objects.get()
    assert alert.count == 5
    # One "seen again" line for the burst, not one per flush.
    assert alert.events.filter(kind=EventKind.UPDATED).count() == 1


def test_a_closed_alert_is_never_reopened_by_new_traffic(demo_inventory):
    ingest_alerts([row(count=1)], "sensor", locate=False)
    change_status(Alert.objects.get(), AlertStatus.RESOLVED)
    ingest_alerts([row(count=3, last="2026-05-12T08:00:05Z")], "sensor", locate=False)
    resolved, fresh = Alert.objects.order_by("pk")
    assert (resolved.status, resolved.count) == ("resolved", 1)
    assert (fresh.status, fresh.count) == ("new", 2)


def test_an_address_in_no_prefix_belongs_to_the_city_root(demo_inventory):
    ingest_alerts([row(src="192.0.2.7", dst=None)], "pcap", locate=False)
    alert = Alert.objects.get()
    assert alert.region.parent is None and alert.agency is None


@pytest.mark.parametrize("path", [
    ["acknowledged", "contained", "resolved"],
    ["false_positive"],
    ["acknowledged", "false_positive", "acknowledged", "resolved"],
    ["contained"],
])
def test_allowed_status_transitions_are_recorded_in_the_timeline(demo_inventory, make_user, path):
    user = make_user("analyst", "security")
    ingest_alerts([row()], "pcap", locate=False)
    alert = Alert.objects.get()
    for status in path:
        change_status(alert, status, user)
    alert.refresh_from_db()
    assert alert.status == path[-1]
    steps = list(alert.events.filter(kind=EventKind.STATUS).values_list("from_status", "to_status"))
    assert steps == list(zip(["new", *path[:-1]], path, strict=True))


@pytest.mark.parametrize("path", [
    ["resolved", "contained"], ["resolved", "new"], ["acknowledged", "new"], ["contained", "acknowledged"],
    ["bogus"],
])
def test_refused_status_transitions_change_nothing(demo_inventory, path):
    ingest_alerts([row()], "pcap", locate=False)
    alert = Alert.objects.get()
    for status in path[:-1]:
        change_status(alert, status)
    before = alert.status
    with pytest.raises(ThreatError) as refused:
        change_status(alert, path[-1])
    assert refused.value.code in ("THREAT_TRANSITION_REFUSED", "THREAT_STATUS_UNKNOWN")
    alert.refresh_from_db()
    assert alert.status == before


def test_notes_and_assignment_are_kept_with_author_and_timeline(demo_inventory, make_user):
    user = make_user("analyst", "security")
    ingest_alerts([row()], "pcap", locate=False)
    alert = Alert.objects.get()
    assign(alert, user, user)
    add_note(alert, user, "isolated by phone with the agency")
    with pytest.raises(ThreatError):
        add_note(alert, user, "   ")
    alert.refresh_from_db()
    assert alert.assignee == user
    assert [(n.author, n.text) for n in alert.notes.all()] == [(user, "isolated by phone with the agency")]
    assert {EventKind.ASSIGNED, EventKind.NOTE} <= set(alert.events.values_list("kind", flat=True))


EVE_LINES = [
    {"timestamp": "2026-05-12T08:00:01.000100+0000", "event_type": "alert", "src_ip": "10.19.1.20", "src_port": 49152,
     "dest_ip": "10.19.1.30", "dest_port": 445, "proto": "TCP",
     "alert": {"signature_id": 2024218, "signature": "ET EXPLOIT Possible ETERNALBLUE MS17-010 Echo Response",
               "severity": 1}},
    {"timestamp": "2026-05-12T08:00:02.000100+0000", "event_type": "alert", "src_ip": "10.19.1.20", "src_port": 49153,
     "dest_ip": "10.19.1.30", "dest_port": 445,
     "alert": {"signature_id": 2024217, "signature": "ET EXPLOIT Possible ETERNALBLUE MS17-010 Heap Spray",
               "severity": 1}},
    "this is not json",
    {"timestamp": "2026-05-12T08:00:03+0000", "event_type": "flow", "src_ip": "10.19.1.20"},
    {"timestamp": "2026-05-12T08:00:04+0000", "event_type": "alert", "src_ip": "10.19.1.21", "dest_ip": "10.19.1.40",
     "dest_port": 445, "alert": {"signature_id": 2025650,
                                 "signature": "ET EXPLOIT Possible DOUBLEPULSAR Beacon Response", "severity": 1}},
    {"timestamp": "2026-05-12T08:00:05+0000", "event_type": "alert", "src_ip": "10.19.1.22", "dest_ip": "10.0.0.53",
     "dest_port": 53, "dns": {"query": [{"rrname": "x"}], "rrname":
                              "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com"},
     "alert": {"signature_id": 1, "signature": "ET DNS Query to a *.com domain - Likely Hostile", "severity": 2}},
    {"timestamp": "2026-05-12T08:00:06+0000", "event_type": "alert", "src_ip": "10.19.1.23", "dest_ip": "10.19.1.1",
     "dest_port": 445, "alert": {"signature_id": 2001569,
                                 "signature": "ET SCAN Behavioral Unusual Port 445 traffic Potential Scan or Infection",
                                 "severity": 2}},
    {"timestamp": "2026-05-12T08:00:07+0000", "event_type": "alert", "src_ip": "10.19.1.24", "dest_ip": "10.19.1.1",
     "dest_port": 445, "alert": {"signature_id": 2024220, "signature": "ET EXPLOIT Possible ETERNALROMANCE MS17-010",
                                 "severity": 1}},
    {"timestamp": "2026-05-12T08:00:08+0000", "event_type": "alert", "src_ip": "10.19.1.25", "dest_ip": "10.19.1.1",
     "dest_port": 80, "alert": {"signature_id": 2100498, "signature": "GPL ATTACK_RESPONSE id check returned root",
                                "severity": 2}},
    {"timestamp": "2026-05-12T08:00:09+0000", "event_type": "alert", "src_ip": "not-an-ip", "dest_ip": "10.19.1.1",
     "alert": {"signature": "x"}},
    ["a", "list"],
    {"timestamp": "2026-05-12T08:00:10+0000", "event_type": "alert", "src_ip": "10.19.1.26", "dest_ip": "10.19.1.1",
     "dest_port": 445, "alert": {"signature_id": 2024297,
                                 "signature": "ET EXPLOIT ETERNALBLUE Probe Vulnerable System Response MS17-010",
                                 "severity": 1}},
]


@pytest.fixture
def eve_file(tmp_path):
    path = tmp_path / "eve.json"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in EVE_LINES) + "\n\n")
    return path


def test_eve_alerts_map_to_the_design_kinds_and_bad_lines_are_named_and_skipped(demo_inventory, eve_file):
    result = import_eve(eve_file, locate=False)
    assert [b["line"] for b in result["bad_lines"]] == [3, 10, 11]
    assert result["events"] == 8 and result["skipped"] == 1
    kinds = dict(Alert.objects.values_list("src", "kind"))
    assert kinds == {"10.19.1.20": "eternalblue", "10.19.1.21": "doublepulsar", "10.19.1.22": "wannacry-killswitch",
                     "10.19.1.23": "smb-scan", "10.19.1.24": "ms17-010", "10.19.1.25": "suricata",
                     "10.19.1.26": "ms17-010"}
    eternalblue = Alert.objects.get(src="10.19.1.20")
    assert eternalblue.count == 2 and eternalblue.source == "suricata-eve"
    assert eternalblue.agency.slug == "nanjiang-t01-gov"
    assert any("2024218" in e for e in eternalblue.evidence)
    assert Alert.objects.get(src="10.19.1.25").severity == "medium"


def test_importing_the_same_eve_file_twice_adds_nothing(demo_inventory, eve_file):
    import_eve(eve_file, locate=False)
    counts = dict(Alert.objects.values_list("pk", "count"))
    again = import_eve(eve_file, locate=False)
    assert again["created"] == 0 and again["updated"] == 0
    assert dict(Alert.objects.values_list("pk", "count")) == counts


def test_eve_import_of_a_missing_file_is_a_coded_error(tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="THREAT_EVE_NOT_FOUND"):
        call_command("threat", "import-eve", str(tmp_path / "none.json"), "--json", stdout=out)
    assert json.loads(out.getvalue())["error"]["code"] == "THREAT_EVE_NOT_FOUND"


def test_eve_reader_survives_garbage(tmp_path):
    path = tmp_path / "garbage.json"
    path.write_bytes(b"\xff\xfe\x00{\n" + b"{" * 5000 + b"\n" + b'{"event_type": "alert", "alert": 5}\n')
    parsed = read_eve(path)
    assert parsed["alerts"] == [] and [b["line"] for b in parsed["bad_lines"]] == [1, 2, 3]


def test_threat_scan_json_prints_the_design_contract(captures):
    out = io.StringIO()
    call_command("threat", "scan", str(captures["wannacry"]), str(captures["office"]), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert {"alerts", "packets", "bytes", "seconds", "warnings"} <= set(result)
    assert result["packets"] > 1000 and result["bytes"] > 0 and result["warnings"] == []
    for alert in result["alerts"]:
        assert set(alert) == {"kind", "severity", "src", "dst", "dport", "first_seen", "last_seen", "count",
                              "evidence"}
        assert alert["first_seen"].endswith("Z") and len(alert["evidence"]) <= 10
    assert "ingested" not in result and Alert.objects.count() == 0


def test_threat_scan_ingest_reports_created_then_unchanged(demo_inventory, captures):
    out = io.StringIO()
    call_command("threat", "scan", str(captures["eternalblue"]), "--ingest", "--no-locate", "--json", stdout=out)
    assert json.loads(out.getvalue())["ingested"]["created"] == 4
    out = io.StringIO()
    call_command("threat", "scan", str(captures["eternalblue"]), "--ingest", "--no-locate", "--json", stdout=out)
    assert json.loads(out.getvalue())["ingested"] | {"alerts": []} == {"created": 0, "updated": 0, "unchanged": 4,
                                                                         "alerts": []}


def test_threat_scan_of_a_missing_file_is_a_coded_error(tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="THREAT_CAPTURE_NOT_FOUND"):
        call_command("threat", "scan", str(tmp_path / "missing.pcap"), "--json", stdout=out)
    assert json.loads(out.getvalue())["error"]["code"] == "THREAT_CAPTURE_NOT_FOUND"


def test_threat_scan_of_a_truncated_capture_warns_and_keeps_what_it_read(captures, tmp_path):
    data = captures["wannacry"].read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])
    out = io.StringIO()
    call_command("threat", "scan", str(cut), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["warnings"] and result["packets"] > 0 and result["alerts"]


def test_prometheus_exposes_alerts_by_kind_status_and_open_severity(demo_inventory):
    from prometheus_client import generate_latest

    from web.metrics import registry

    ingest_alerts([row(), row(kind="smb-scan", severity="high", dst=None)], "pcap", locate=False)
    change_status(Alert.objects.get(kind="smb-scan"), AlertStatus.FALSE_POSITIVE)
    text = generate_latest(registry()).decode()
    assert 'onenet_alerts_total{kind="eternalblue",status="new"} 1.0' in text
    assert 'onenet_alerts_total{kind="smb-scan",status="false_positive"} 1.0' in text
    assert 'onenet_alerts_open{kind="eternalblue",severity="critical"} 1.0' in text
    assert 'onenet_alerts_open{kind="smb-scan"' not in text
    assert 'onenet_alert_events_total{kind="eternalblue"} 1.0' in text
