"""The alert console: a located queue that filters and exports, and an alert page whose triage obeys roles."""

import pytest
from django.test import Client
from django.urls import reverse

from changes.models import ChangeRequest
from changes.services.pipeline import INLINE
from inventory.models import Device
from threat.models import Alert
from threat.services.alerts import ingest_alerts

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def _row(kind, src, severity, first, evidence=("seen",), dst="10.19.1.1"):
    return {"kind": kind, "severity": severity, "src": src, "dst": dst, "dport": 445, "first_seen": first,
            "last_seen": first, "count": 1, "evidence": list(evidence)}


@pytest.fixture
def alerts(demo_inventory):
    ingest_alerts([
        _row("smbv1", "10.19.1.12", "low", "2026-05-12T09:00:00Z"),
        _row("eternalblue", "10.19.1.13", "critical", "2026-05-12T08:00:00Z", evidence=[HOSTILE]),
        _row("smb-scan", "10.19.1.14", "high", "2026-05-12T08:30:00Z", dst=None),
        _row("wannacry-killswitch", "10.16.1.13", "critical", "2026-05-12T08:10:00Z"),
    ], "pcap", locate=False)
    located = Alert.objects.get(src="10.19.1.13")
    located.switch, located.switch_port, located.mac = Device.objects.get(name="nanjiang-t01-sw1"), \
        "GigabitEthernet0/3", "70:00:00:00:00:13"
    located.save()
    return {a.src: a for a in Alert.objects.all()}


@pytest.fixture
def as_user(client, make_user):
    def login(role, region=None):
        client.force_login(make_user(f"{role}-{region or 'city'}", role, region=region))
        return client
    return login


def test_the_queue_shows_the_most_severe_and_newest_first_each_located(alerts, as_user):
    response = as_user("security").get(reverse("threat:alert_list"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["cells"][3] for r in rows] == ["10.16.1.13", "10.19.1.13", "10.19.1.14", "10.19.1.12"]
    alert = alerts["10.19.1.13"]
    assert rows[1]["cells"][6:10] == [alert.agency.name, alert.site.name, "nanjiang-t01-sw1", "GigabitEthernet0/3"]
    page = response.content.decode()
    assert HOSTILE not in page


FILTER_CASES = [
    ({"kind": "smb-scan"}, {"10.19.1.14"}),
    ({"severity": "critical"}, {"10.19.1.13", "10.16.1.13"}),
    ({"status": "new"}, {"10.19.1.12", "10.19.1.13", "10.19.1.14", "10.16.1.13"}),
    ({"status": "resolved"}, set()),
    ({"county": "/city/zhongxin/"}, {"10.16.1.13"}),
    ({"agency": "nanjiang-t01-gov"}, {"10.19.1.12", "10.19.1.13", "10.19.1.14"}),
    ({"q": "10.19.1.14"}, {"10.19.1.14"}),
]


def test_the_queue_filters_by_kind_severity_status_county_and_agency(alerts, as_user):
    client = as_user("security")
    for query, sources in FILTER_CASES:
        rows = client.get(reverse("threat:alert_list"), query).context["rows"]
        assert {r["cells"][3] for r in rows} == sources, query


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_queue_exports_without_running_hostile_evidence(alerts, as_user, kind):
    client = as_user("security")
    response = client.get(reverse("threat:alert_list"), {"export": kind, "severity": "critical"})
    assert response.status_code == 200
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        assert "10.19.1.13" in text and "nanjiang-t01-sw1" in text and "10.19.1.12" not in text


def test_a_county_analyst_sees_only_their_county(alerts, as_user):
    client = as_user("security", "nanjiang")
    page = client.get(reverse("threat:alerts")).content.decode()
    assert "10.19.1.13" in page and "10.16.1.13" not in page
    assert client.get(reverse("threat:alert", args=[alerts["10.16.1.13"].pk])).status_code == 404
    assert client.post(reverse("threat:alert", args=[alerts["10.16.1.13"].pk]),
                       {"action": "acknowledge"}).status_code == 404
    assert Alert.objects.get(src="10.16.1.13").status == "new"


def test_the_alert_page_shows_evidence_escaped_location_and_timeline(alerts, as_user):
    page = as_user("security").get(reverse("threat:alert", args=[alerts["10.19.1.13"].pk])).content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "nanjiang-t01-sw1" in page and "GigabitEthernet0/3" in page and "南江县" in page
    assert 'name="csrfmiddlewaretoken"' in page


@pytest.mark.parametrize("role", ["security", "engineer", "admin"])
def test_triage_roles_acknowledge_assign_note_and_resolve(alerts, as_user, role):
    client = as_user(role)
    url = reverse("threat:alert", args=[alerts["10.19.1.13"].pk])
    for data in ({"action": "acknowledge"}, {"action": "assign_me"}, {"action": "note", "text": f"called {HOSTILE}"},
                 {"action": "contain"}, {"action": "resolve"}):
        assert client.post(url, data).status_code == 302
    alert = Alert.objects.get(pk=alerts["10.19.1.13"].pk)
    assert alert.status == "resolved" and alert.assignee.username == f"{role}-city"
    assert alert.notes.get().text == f"called {HOSTILE}"
    page = client.get(url).content.decode()
    assert HOSTILE not in page
    assert [e for e in alert.events.values_list("to_status", flat=True) if e in
            ("acknowledged", "contained", "resolved")] == ["acknowledged", "contained", "resolved"]


def test_a_refused_transition_is_shown_as_an_error_and_changes_nothing(alerts, as_user):
    client = as_user("security")
    url = reverse("threat:alert", args=[alerts["10.19.1.12"].pk])
    client.post(url, {"action": "resolve"})
    response = client.post(url, {"action": "contain"}, follow=True)
    assert "THREAT_TRANSITION_REFUSED" in response.content.decode()
    assert Alert.objects.get(pk=alerts["10.19.1.12"].pk).status == "resolved"


def test_a_manager_reads_but_cannot_triage(alerts, as_user):
    client = as_user("manager")
    url = reverse("threat:alert", args=[alerts["10.19.1.13"].pk])
    page = client.get(url).content.decode()
    assert "nanjiang-t01-sw1" in page and 'value="acknowledge"' not in page
    assert client.post(url, {"action": "acknowledge"}).status_code == 403
    assert 'name="release_after_minutes"' not in page  # no containment form either
    client.post(reverse("changes:contain", args=[alerts["10.19.1.13"].pk]), {"kind": "shutdown-port"})
    assert Alert.objects.get(pk=alerts["10.19.1.13"].pk).status == "new"
    assert not ChangeRequest.objects.exists()


def test_triage_without_the_csrf_token_is_refused(alerts, make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("analyst", "security"))
    response = client.post(reverse("threat:alert", args=[alerts["10.19.1.13"].pk]), {"action": "acknowledge"})
    assert response.status_code == 403
    assert Alert.objects.get(pk=alerts["10.19.1.13"].pk).status == "new"


def test_containment_from_the_alert_page_is_a_change_linked_from_the_alert(alerts, as_user):
    client = as_user("security")
    alert = alerts["10.19.1.13"]
    page = client.get(reverse("threat:alert", args=[alert.pk])).content.decode()
    assert f'action="{reverse("changes:contain", args=[alert.pk])}"' in page
    token = INLINE.set(True)  # the dry run in this process, never a message left on the test's broker
    try:
        client.post(reverse("changes:contain", args=[alert.pk]), {"kind": "shutdown-port"})
    finally:
        INLINE.reset(token)
    change = ChangeRequest.objects.get()
    assert (change.source, change.alert_id, change.author.username) == ("containment", alert.pk, "security-city")
    assert change.tasks.get().lines == ["interface GigabitEthernet0/3", " shutdown"]
    page = client.get(reverse("threat:alert", args=[alert.pk])).content.decode()
    assert reverse("changes:detail", args=[change.pk]) in page
    assert alert.events.filter(kind="containment", text__contains=f"change #{change.pk}").exists()


def test_the_navigation_offers_alerts(alerts, as_user):
    page = as_user("security").get(reverse("threat:alerts")).content.decode()
    assert f'href="{reverse("threat:alerts")}"' in page
