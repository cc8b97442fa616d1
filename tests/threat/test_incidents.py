"""The alert queue sized for a worm outbreak: one incident per infected host (every kind, every target), the open
ones by default, bulk acknowledge / assign / resolve by those who may triage and only inside their scope, assignment
to any user whose scope covers the host, and a containment proposal followed through the change pipeline on the lab
until a backup shows it (or it is rejected, or withdrawn when the incident is resolved)."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from changes.models import ChangeRequest
from changes.services.producers import contain_incident as propose
from inventory.models import Device
from lab.traffic import write_scenario
from tests.changes.conftest import CONFIRM_S, inline, put_back  # noqa: F401 - fixtures: the pipeline runs inline
from threat.models import Alert, ContainmentProposal, Incident
from threat.services import ThreatError
from threat.services.alerts import change_status, ingest_alerts
from threat.services.incidents import assignable_users, refresh
from threat.services.proposals import sync_incidents
from threat.services.scan import scan_captures

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def row(kind, src, severity="critical", dst="10.19.1.30", first="2026-05-12T08:00:00Z", evidence=("seen",)):
    return {"kind": kind, "severity": severity, "src": src, "dst": dst, "dport": 445, "first_seen": first,
            "last_seen": first, "count": 1, "evidence": list(evidence)}


@pytest.fixture
def outbreak(demo_inventory):
    """Three infected hosts in Nanjiang (one with three kinds of alert towards two targets) and one in Zhongxin."""
    ingest_alerts([row("eternalblue", "10.19.1.13", evidence=[HOSTILE]),
                   row("doublepulsar", "10.19.1.13", dst="10.19.1.31"),
                   row("smb-scan", "10.19.1.13", "high", dst=None),
                   row("smbv1", "10.19.1.12", "low"),
                   row("smb-scan", "10.19.1.14", "high", dst=None),
                   row("wannacry-killswitch", "10.16.1.13", "medium")], "pcap", locate=False)
    located = Alert.objects.get(src="10.19.1.13", kind="eternalblue")
    located.switch, located.switch_port = Device.objects.get(name="nanjiang-t01-sw1"), "GigabitEthernet0/3"
    located.save()
    refresh(located.incident)
    return {i.src: i for i in Incident.objects.all()}


@pytest.fixture
def as_user(client, make_user):
    def login(role, region=None, name=None):
        user = make_user(name or f"{role}-{region or 'city'}", role, region=region)
        client.force_login(user)
        client.user = user
        return client
    return login


def queue(client, **query):
    response = client.get(reverse("threat:alerts"), query)
    assert response.status_code == 200
    return response


def hosts(response) -> list[str]:
    return [r["cells"][3] for r in response.context["rows"]]


# -- grouping ---------------------------------------------------------------------------------------------------
def test_a_wannacry_outbreak_capture_becomes_one_incident_per_infected_host(demo_inventory, tmp_path):
    capture = tmp_path / "wannacry.pcap"
    info = write_scenario("wannacry", capture, seed=1)
    scan_captures([capture], ingest=True, locate=False)
    alerts = list(Alert.objects.all())
    sources = {a.src for a in alerts}
    assert {info["patient_zero"], info["victim"]} <= sources
    incidents = {i.src: i for i in Incident.objects.all()}
    assert set(incidents) == sources and len(incidents) == Incident.objects.count()  # one per infected host
    for alert in alerts:
        assert alert.incident == incidents[alert.src]
    zero = incidents[info["patient_zero"]]
    assert {"eternalblue", "smb-scan", "wannacry-killswitch"} <= set(zero.kind_list())
    assert zero.alert_count == Alert.objects.filter(src=zero.src).count() > 2
    assert (zero.severity, zero.status) == ("critical", "open")
    first = Alert.objects.filter(src=zero.src).order_by("pk").first()
    assert (zero.region, zero.agency, zero.site) == (first.region, first.agency, first.site)
    again = scan_captures([capture], ingest=True, locate=False)["ingested"]  # the same capture again: nothing new
    assert again["created"] == 0 and Incident.objects.count() == len(incidents)


def test_an_incident_takes_the_worst_severity_and_every_target_of_its_host(outbreak):
    incident = outbreak["10.19.1.13"]
    incident.refresh_from_db()
    assert (incident.alert_count, incident.severity, incident.kind_list()) == (
        3, "critical", ["doublepulsar", "eternalblue", "smb-scan"])
    assert (incident.switch.name, incident.switch_port) == ("nanjiang-t01-sw1", "GigabitEthernet0/3")
    assert incident.county.name == "南江县" and incident.agency is not None


def test_traffic_after_an_incident_is_resolved_opens_a_new_incident(outbreak, make_user):
    from threat.services.incidents import change_status as incident_status

    old = outbreak["10.19.1.14"]
    incident_status(old, "resolved", make_user("analyst", "security"))
    assert Alert.objects.get(src="10.19.1.14").status == "resolved"
    ingest_alerts([row("eternalblue", "10.19.1.14", first="2026-05-13T08:00:00Z")], "pcap", locate=False)
    new = Incident.objects.get(src="10.19.1.14", status="open")
    assert new.pk != old.pk and new.alert_count == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # never two open incidents for one host
        Incident.objects.create(src="10.19.1.14", first_seen=new.first_seen, last_seen=new.last_seen)


# -- the queue --------------------------------------------------------------------------------------------------
def test_the_queue_shows_open_incidents_only_unless_asked_for_all(outbreak, as_user):
    from threat.services.incidents import change_status as incident_status

    client = as_user("security")
    incident_status(outbreak["10.19.1.12"], "resolved", client.user)
    assert set(hosts(queue(client))) == {"10.19.1.13", "10.19.1.14", "10.16.1.13"}
    assert set(hosts(queue(client, status="all"))) == {"10.19.1.12", "10.19.1.13", "10.19.1.14", "10.16.1.13"}
    assert hosts(queue(client, status="resolved")) == ["10.19.1.12"]


def test_the_queue_lists_the_most_severe_first_with_county_agency_location_kinds_and_count(outbreak, as_user):
    response = queue(as_user("security"))
    assert hosts(response) == ["10.19.1.13", "10.19.1.14", "10.16.1.13", "10.19.1.12"]
    fields = [c.field for c in response.context["columns"]]
    cells = dict(zip(fields, response.context["rows"][0]["cells"], strict=True))
    incident = outbreak["10.19.1.13"]
    assert cells["county__name"] == "南江县" and cells["agency__name"] == incident.agency.name
    assert (cells["switch__name"], cells["switch_port"]) == ("nanjiang-t01-sw1", "GigabitEthernet0/3")
    assert cells["alert_count"] == 3 and "EternalBlue" in cells["kinds"] and "DoublePulsar" in cells["kinds"]
    assert cells["age"] and cells["first_seen"] == incident.first_seen
    page = response.content.decode()
    assert 'class="severity severity-critical"' in page and 'class="severity severity-low"' in page
    assert HOSTILE not in page


FILTER_CASES = [
    ({"severity": "high"}, {"10.19.1.14"}),
    ({"county": "/city/zhongxin/"}, {"10.16.1.13"}),
    ({"kind": "smb-scan"}, {"10.19.1.13", "10.19.1.14"}),
    ({"kind": "wannacry-killswitch"}, {"10.16.1.13"}),
    ({"status": "acknowledged"}, set()),
    ({"q": "10.19.1.14"}, {"10.19.1.14"}),
]


def test_the_queue_filters_by_county_severity_status_kind_and_assignee(outbreak, as_user):
    client = as_user("security")
    for query, sources in FILTER_CASES:
        assert set(hosts(queue(client, **query))) == sources, query
    client.post(reverse("threat:incidents_bulk"), {"action": "assign", "assignee": client.user.username,
                                                   "incident": [outbreak["10.16.1.13"].pk]})
    assert hosts(queue(client, assignee=client.user.username)) == ["10.16.1.13"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_queue_exports_its_incidents(outbreak, as_user, kind):
    response = queue(as_user("security", "nanjiang"), export=kind)
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        assert "10.19.1.13" in text and "南江县" in text and "nanjiang-t01-sw1" in text and "10.16.1.13" not in text
    else:
        assert response["Content-Type"].endswith("spreadsheetml.sheet")


def test_a_county_analyst_sees_only_the_incidents_of_their_county(outbreak, as_user):
    client = as_user("security", "nanjiang")
    assert set(hosts(queue(client))) == {"10.19.1.12", "10.19.1.13", "10.19.1.14"}
    assert client.get(reverse("threat:incident", args=[outbreak["10.16.1.13"].pk])).status_code == 404
    assert client.get(reverse("threat:incident", args=[outbreak["10.19.1.13"].pk])).status_code == 200


# -- bulk triage --------------------------------------------------------------------------------------------------
def test_bulk_acknowledge_assign_and_resolve_write_events_with_the_actor(outbreak, as_user, make_user):
    client = as_user("security")
    colleague = make_user("colleague", "security")
    picked = [outbreak["10.19.1.13"].pk, outbreak["10.19.1.14"].pk]
    for data in ({"action": "acknowledge"}, {"action": "assign", "assignee": "colleague"}):
        response = client.post(reverse("threat:incidents_bulk"), {**data, "incident": picked})
        assert response.status_code == 302 and response["Location"].startswith(reverse("threat:alerts"))
    for incident in Incident.objects.filter(pk__in=picked):
        assert (incident.status, incident.assignee) == ("acknowledged", colleague)
        events = list(incident.events.filter(actor=client.user).values_list("kind", "to_status", "text"))
        assert ("status", "acknowledged", "") in events and ("assigned", "", "colleague") in events
        for alert in incident.alerts.all():  # the alerts follow, each with its own event by the same person
            assert alert.status == "acknowledged"
            assert alert.events.filter(kind="status", to_status="acknowledged", actor=client.user).exists()
    assert Incident.objects.get(src="10.19.1.12").status == "open"  # not ticked, not touched
    client.post(reverse("threat:incidents_bulk"), {"action": "resolve", "incident": picked})
    for incident in Incident.objects.filter(pk__in=picked):
        assert incident.status == "resolved" and incident.resolved_at is not None
        assert incident.events.filter(kind="status", to_status="resolved", actor=client.user).exists()
        assert set(incident.alerts.values_list("status", flat=True)) == {"resolved"}
    assert set(hosts(queue(client))) == {"10.19.1.12", "10.16.1.13"}


def test_a_bulk_action_that_cannot_apply_to_one_incident_reports_it_and_does_the_others(outbreak, as_user):
    from threat.services.incidents import change_status as incident_status

    client = as_user("security")
    incident_status(outbreak["10.19.1.12"], "resolved", client.user)
    response = client.post(reverse("threat:incidents_bulk"), {
        "action": "acknowledge", "incident": [outbreak["10.19.1.12"].pk, outbreak["10.19.1.14"].pk]}, follow=True)
    assert "THREAT_TRANSITION_REFUSED" in response.content.decode()
    assert Incident.objects.get(pk=outbreak["10.19.1.14"].pk).status == "acknowledged"
    assert Incident.objects.get(pk=outbreak["10.19.1.12"].pk).status == "resolved"


def test_a_bulk_post_with_an_out_of_scope_or_unknown_id_acts_on_none(outbreak, as_user):
    client = as_user("security", "nanjiang")
    inside, outside = outbreak["10.19.1.13"], outbreak["10.16.1.13"]
    for ids in ([inside.pk, outside.pk], [inside.pk, 999999], [inside.pk, "x"]):
        response = client.post(reverse("threat:incidents_bulk"), {"action": "resolve", "incident": ids})
        assert response.status_code == 404
    assert set(Incident.objects.values_list("status", flat=True)) == {"open"}
    assert not Incident.objects.filter(events__kind="status").exists()


def test_only_roles_that_triage_may_act_in_bulk_and_only_with_the_csrf_token(outbreak, as_user, make_user):
    picked = {"action": "acknowledge", "incident": [outbreak["10.19.1.13"].pk]}
    manager = as_user("manager")
    page = queue(manager).content.decode()
    assert 'name="incident"' not in page and 'value="acknowledge"' not in page
    assert manager.post(reverse("threat:incidents_bulk"), picked).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("analyst", "security"))
    assert strict.post(reverse("threat:incidents_bulk"), picked).status_code == 403
    assert Incident.objects.get(pk=outbreak["10.19.1.13"].pk).status == "open"
    for role in ("engineer", "admin"):
        client = as_user(role)
        assert 'name="incident"' in queue(client).content.decode()


def test_an_incident_can_be_assigned_to_the_county_engineer_not_only_to_oneself(outbreak, as_user, make_user):
    nanjiang_engineer = make_user("engineer-nj", "engineer", region="nanjiang")
    zhongxin_engineer = make_user("engineer-zx", "engineer", region="zhongxin")
    make_user("boss", "manager")
    client = as_user("security")
    incident = outbreak["10.19.1.13"]
    assert set(assignable_users(incident).values_list("username", flat=True)) == {"security-city", "engineer-nj"}
    page = client.get(reverse("threat:incident", args=[incident.pk])).content.decode()
    assert 'value="engineer-nj"' in page and 'value="engineer-zx"' not in page and 'value="boss"' not in page
    client.post(reverse("threat:incident", args=[incident.pk]), {"action": "assign", "assignee": "engineer-nj"})
    incident.refresh_from_db()
    assert incident.assignee == nanjiang_engineer
    assert incident.events.filter(kind="assigned", actor=client.user, text="engineer-nj").exists()
    # In bulk, an assignee who does not cover one of the incidents is refused for that one, with the reason.
    response = client.post(reverse("threat:incidents_bulk"), {
        "action": "assign", "assignee": "engineer-zx",
        "incident": [outbreak["10.16.1.13"].pk, outbreak["10.19.1.14"].pk]}, follow=True)
    assert "THREAT_ASSIGNEE_OUT_OF_SCOPE" in response.content.decode()
    assert Incident.objects.get(src="10.16.1.13").assignee == zhongxin_engineer
    assert Incident.objects.get(src="10.19.1.14").assignee is None
    # The county engineer sees what is assigned to them, and a county analyst can pick only those covering it.
    assert hosts(queue(as_user("engineer", "nanjiang", name="other-nj"), assignee="engineer-nj")) == ["10.19.1.13"]


# -- the incident page --------------------------------------------------------------------------------------------
def test_the_incident_page_shows_its_alerts_location_and_timeline_and_each_alert_links_back(outbreak, as_user):
    client = as_user("security")
    incident = outbreak["10.19.1.13"]
    page = client.get(reverse("threat:incident", args=[incident.pk])).content.decode()
    for alert in incident.alerts.all():
        assert reverse("threat:alert", args=[alert.pk]) in page
        alert_page = client.get(reverse("threat:alert", args=[alert.pk])).content.decode()
        assert reverse("threat:incident", args=[incident.pk]) in alert_page
    assert "南江县" in page and incident.agency.name in page and "nanjiang-t01-sw1" in page
    assert "GigabitEthernet0/3" in page and "10.19.1.31" in page
    assert 'class="data timeline"' in page
    assert all(f"#{pk} → " in page for pk in incident.alerts.values_list("pk", flat=True))  # each joined, in time
    assert HOSTILE not in page


def test_the_incident_page_acknowledges_and_resolves(outbreak, as_user):
    client = as_user("engineer")
    url = reverse("threat:incident", args=[outbreak["10.19.1.14"].pk])
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        assert client.post(url, {"action": action}).status_code == 302
        assert Incident.objects.get(src="10.19.1.14").status == status
    assert as_user("manager", name="boss").post(url, {"action": "acknowledge"}).status_code == 403


def test_an_alert_contained_contains_its_incident(outbreak, make_user):
    alert = Alert.objects.get(src="10.19.1.14")
    change_status(alert, "contained", make_user("analyst", "security"))
    assert Incident.objects.get(src="10.19.1.14").status == "contained"


# -- containment proposals ----------------------------------------------------------------------------------------
def test_an_incident_has_at_most_one_active_containment_proposal(outbreak, make_user):
    incident, author = outbreak["10.19.1.13"], make_user("analyst", "security")
    ContainmentProposal.objects.create(incident=incident, kind="shutdown-port", created_by=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContainmentProposal.objects.create(incident=incident, kind="acl-block-host", created_by=author)
    ContainmentProposal.objects.create(incident=incident, kind="acl-block-host", created_by=author, state="rejected")
    with pytest.raises(ThreatError, match="THREAT_PROPOSAL_ACTIVE"):
        propose(incident, "shutdown-port", author)
    assert not ChangeRequest.objects.exists()


def test_an_unlocated_incident_cannot_be_contained(outbreak, make_user):
    with pytest.raises(ThreatError, match="THREAT_NOT_LOCATED"):
        propose(outbreak["10.19.1.14"], "shutdown-port", make_user("analyst", "security"))


# The lab's access switch of a host (tests/changes/test_containment.py's Huawei case).
LAB_HOST, LAB_SWITCH, LAB_PORT = "10.1.5.12", "ag-public-security-sw1", "GigabitEthernet0/0/2"


@pytest.fixture
def lab_incident(lab_inventory, put_back):  # noqa: F811
    put_back(LAB_SWITCH)
    ingest_alerts([row("eternalblue", LAB_HOST, dst="10.1.5.99"), row("smb-scan", LAB_HOST, "high", dst=None)],
                  "pcap", locate=False)
    alert = Alert.objects.get(src=LAB_HOST, kind="eternalblue")
    alert.switch, alert.switch_port = Device.objects.get(name=LAB_SWITCH), LAB_PORT
    alert.save()
    return refresh(alert.incident)


def state_on_page(client, incident) -> str:
    """The proposal's state as the incident page shows it (the page brings it up to date first)."""
    page = client.get(reverse("threat:incident", args=[incident.pk])).content.decode()
    proposal = incident.proposals.order_by("-pk").first()
    assert f'containment-{proposal.state}">{proposal.get_state_display()}' in page
    return proposal.state


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_containment_proposal_is_approved_applied_and_verified_by_the_next_backup(lab_incident, as_user, make_user):
    from changes.services import requests
    from collectors.services.backup import backup_devices

    engineer = make_user("bob", "engineer")
    client = as_user("security")
    response = client.post(reverse("threat:incident", args=[lab_incident.pk]),
                           {"action": "contain", "kind": "shutdown-port"})
    assert response.status_code == 302
    proposal = lab_incident.proposals.get()
    change = proposal.change
    assert (change.status, change.source, change.author) == ("awaiting_approval", "containment", client.user)
    assert state_on_page(client, lab_incident) == "proposed"
    assert queue(client).context["rows"][0]["cells"][-1] == "已提议"
    # one active proposal: a second one is refused and makes no change
    response = client.post(reverse("threat:incident", args=[lab_incident.pk]),
                           {"action": "contain", "kind": "acl-block-host"}, follow=True)
    assert "THREAT_PROPOSAL_ACTIVE" in response.content.decode() and ChangeRequest.objects.count() == 1

    change = requests.approve(change, engineer, "go")
    assert change.status == "completed", list(change.tasks.values_list("status", "reason"))
    proposal.refresh_from_db()
    assert proposal.state == "applied"  # the pipeline's own snapshot is not the next backup
    lab_incident.refresh_from_db()
    assert (lab_incident.status, lab_incident.containment) == ("contained", "applied")
    assert state_on_page(client, lab_incident) == "applied"

    assert backup_devices(device_name=LAB_SWITCH, with_tables=False)["failed"] == 0
    assert state_on_page(client, lab_incident) == "verified"
    proposal.refresh_from_db()
    assert proposal.verified_at is not None
    states = list(lab_incident.events.filter(kind="proposal").values_list("to_status", flat=True))
    assert states == ["proposed", "applied", "verified"] or states == ["proposed", "approved", "applied", "verified"]


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_rejected_proposal_is_rejected_and_another_may_follow(lab_incident, make_user, as_user):
    from changes.services import requests

    analyst = make_user("analyst", "security")
    proposal = propose(lab_incident, "shutdown-port", analyst)
    requests.reject(proposal.change, make_user("bob", "engineer"), "not this port")
    sync_incidents([lab_incident.pk])
    proposal.refresh_from_db()
    assert (proposal.state, proposal.closed_at is not None) == ("rejected", True)
    assert state_on_page(as_user("security"), lab_incident) == "rejected"
    second = propose(lab_incident, "acl-block-host", analyst)
    assert second.state == "proposed" and second.change.status == "awaiting_approval"


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_resolving_the_incident_withdraws_its_proposal_and_cancels_the_change(lab_incident, as_user):
    client = as_user("security")
    proposal = propose(lab_incident, "shutdown-port", client.user)
    client.post(reverse("threat:incidents_bulk"), {"action": "resolve", "incident": [lab_incident.pk]})
    proposal.refresh_from_db()
    proposal.change.refresh_from_db()
    assert (proposal.state, proposal.change.status) == ("withdrawn", "cancelled")
    assert proposal.change.tasks.get().status == "cancelled"
    assert Incident.objects.get(pk=lab_incident.pk).status == "resolved"
    assert proposal.change.audit.filter(action="cancelled", user=client.user).exists()


# -- the migration ----------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_migration_groups_existing_alerts_into_one_incident_per_host(demo_inventory):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("threat", "0003_alert_received_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldAlert, Region = old.get_model("threat", "Alert"), old.get_model("inventory", "Region")
    region = Region.objects.get(slug="nanjiang-t01")
    for kind, src, status in (("eternalblue", "10.19.1.13", "new"), ("smb-scan", "10.19.1.13", "acknowledged"),
                              ("smbv1", "10.19.1.12", "resolved"), ("smb-scan", "10.19.1.12", "new")):
        OldAlert.objects.create(kind=kind, severity="critical" if kind == "eternalblue" else "high", source="pcap",
                                src=src, status=status, first_seen="2026-05-12T08:00:00Z",
                                last_seen="2026-05-12T08:00:00Z", region=region,
                                severity_rank=4 if kind == "eternalblue" else 3)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert not Alert.objects.filter(incident__isnull=True).exists()
    first = Incident.objects.get(src="10.19.1.13")
    assert (first.status, first.alert_count, first.severity, first.county.slug) == ("open", 2, "critical", "nanjiang")
    assert set(Incident.objects.filter(src="10.19.1.12").values_list("status", "alert_count")) == {
        ("resolved", 1), ("open", 1)}


def test_prometheus_counts_open_incidents_by_severity(outbreak, make_user):
    from prometheus_client import generate_latest

    from threat.services.incidents import change_status as incident_status
    from web.metrics import registry

    incident_status(outbreak["10.19.1.12"], "resolved", make_user("analyst", "security"))
    text = generate_latest(registry()).decode()
    assert 'onenet_incidents_open{severity="critical"} 1.0' in text
    assert 'onenet_incidents_open{severity="high"} 1.0' in text and 'onenet_incidents_open{severity="low"}' not in text
