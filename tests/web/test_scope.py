"""A user scoped to a county sees only that county's subtree, in every console view.

`SCOPE_CASES` must name every console URL; a new view without a case fails
`test_every_console_view_has_a_scope_case`, so no view can skip the scope.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from collectors.models import ConfigVersion, InterfaceRollup, InterfaceSample
from inventory.models import Device, Link, Site

pytestmark = pytest.mark.django_db

NOT_CONSOLE = {"login", "logout", "set_language", "healthz", "metrics"}  # no pages of inventory data


def console_url_names(patterns=None, namespace=""):
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= console_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in NOT_CONSOLE:
            names.add(namespace + pattern.name)
    return names


# In scope for the Nanjiang engineer (nanjiang), out of scope (zhongxin): what each page must and must not show.
LIST_MARKERS = {
    "overview": ("南江县", "中心区"),
    "coverage": ("南江县", "中心区"),
    "inventory:devices": ("nanjiang-agg-1", "zhongxin-agg-1"),
    "inventory:sites": ("南江县政务外网汇聚机房", "中心区政务外网汇聚机房"),
    "inventory:agencies": ("南江县政务服务和数据管理局", "中心区政务服务和数据管理局"),
    "inventory:prefixes": ("10.19.0.0/16", "10.16.0.0/16"),
    "inventory:links": ("nanjiang-t01-ar", "zhongxin-t01-ar"),
    "bandwidth:index": ("nanjiang-t01-ar", "zhongxin-t01-ar"),
    "bandwidth:expansion": ("nanjiang-t01-ar", "zhongxin-t01-ar"),
    "threat:alerts": ("10.19.1.77", "10.16.1.77"),  # the alert queue: one incident per infected host (issue 13)
    "threat:alert_list": ("10.19.1.77", "10.16.1.77"),
    # egress (issue 10): each county router's egress verification results (fixture egress_results below)
    "egress:index": ("nanjiang-agg-1", "zhongxin-agg-1"),
    "egress:results": ("nanjiang-agg-1", "zhongxin-agg-1"),
    # compliance (issue 10): results and a waiver on each county's router (fixture compliance_results below)
    "compliance:overview": ("南江县", "中心区"),
    "compliance:findings": ("nanjiang-agg-1", "zhongxin-agg-1"),
    "compliance:waivers": ("nanjiang-agg-1", "zhongxin-agg-1"),
    # changes (issue 11): a change on each county's router (fixture change_requests below); the new-change form
    # offers only the regions of the user's scope.
    "changes:index": ("nanjiang-ntp-change", "zhongxin-ntp-change"),
    "changes:create": ("南江县", "中心区"),
}
# Lists that export CSV/XLSX, and declarative lists whose search must not reach outside the scope.
EXPORTABLE = {name for name in LIST_MARKERS if name.startswith(("inventory:", "bandwidth:"))}
SEARCHABLE = {name for name in LIST_MARKERS if name.startswith("inventory:")}
EXPORTABLE |= {"egress:results"}
SEARCHABLE |= {"egress:results"}
EXPORTABLE |= {"compliance:findings", "compliance:waivers"}
SEARCHABLE |= {"compliance:findings", "compliance:waivers"}
EXPORTABLE |= {"changes:index"}
SEARCHABLE |= {"changes:index"}
EXPORTABLE |= {"threat:alerts", "threat:alert_list"}
SEARCHABLE |= {"threat:alerts", "threat:alert_list"}
# The Overview's drill-down (its default card: devices not answering now, every device in `collected`) and the
# monthly availability report (fixture availability_buckets below) (issue 13).
LIST_MARKERS |= {"overview_items": ("nanjiang-agg-1", "zhongxin-agg-1"),
                 "availability:report": ("nanjiang-agg-1", "zhongxin-agg-1")}
EXPORTABLE |= {"overview_items", "availability:report"}
SEARCHABLE |= {"availability:report"}
DETAIL_OBJECTS = {
    "inventory:device": lambda slug: Device.objects.get(name=f"{slug}-agg-1").pk,
    "inventory:site": lambda slug: Site.objects.get(slug=f"{slug}-hub").pk,
    "bandwidth:link": lambda slug: busy_link(slug).pk,
    "bandwidth:link_series": lambda slug: busy_link(slug).pk,
    # the engineer's tools (issue 13): an interface's graphs and a device's back-up/poll-now progress
    "bandwidth:interface": lambda slug: busy_link(slug).a_interface_id,
    "bandwidth:interface_series": lambda slug: busy_link(slug).a_interface_id,
    "bandwidth:device_jobs": lambda slug: Device.objects.get(name=f"{slug}-agg-1").pk,
    "config_version": lambda slug: ConfigVersion.objects.get(device__name=f"{slug}-agg-1").pk,
    "threat:alert": lambda slug: threat_alert(slug).pk,
    "threat:incident": lambda slug: threat_alert(slug).incident_id,
    "compliance:result": lambda slug: compliance_result(slug).pk,
    "changes:detail": lambda slug: county_change(slug).pk,
    "changes:progress": lambda slug: county_change(slug).pk,
    "changes:audit_export": lambda slug: county_change(slug).pk,
    "changes:device_audit_export": lambda slug: Device.objects.get(name=f"{slug}-agg-1").pk,
}


def busy_link(county_slug):
    return Link.objects.get(b_interface__device__name=f"{county_slug}-t01-ar")
# Actions whose own tests prove they act only inside the scope (tests/collectors/test_collect_now.py,
# tests/collectors/test_ssh_host_keys.py; the waiver forms and the MLPS workbook: tests/policies/test_console.py).
ACTIONS = {"bandwidth:collect", "accept_host_key", "compliance:waiver_create", "compliance:waiver_expire",
           "compliance:mlps_export"}
# The change actions (POST only): test_a_county_user_cannot_act_outside_their_county below, and
# tests/changes/test_console.py.
ACTIONS |= {"changes:act", "changes:resolve", "changes:from_findings", "changes:egress_rollout", "changes:contain"}
# The queue's bulk triage (POST only): test_a_county_user_cannot_triage_incidents_outside_their_county below.
ACTIONS |= {"threat:incidents_bulk"}
# Back up now / poll now (POST only): tests/collectors/test_device_tools.py; "where is": its test below.
ACTIONS |= {"bandwidth:device_backup", "bandwidth:device_poll"}
SEARCHES = {"bandwidth:where"}
SCOPE_CASES = set(LIST_MARKERS) | set(DETAIL_OBJECTS) | ACTIONS | SEARCHES


def test_every_console_view_has_a_scope_case():
    assert console_url_names() == SCOPE_CASES


@pytest.fixture
def collected(demo_inventory):
    """A busy week on one link per county, and a config version per county router."""
    from django.utils import timezone

    now = timezone.now()
    for slug in ("nanjiang", "zhongxin"):
        link = busy_link(slug)
        busy = link.capacity_bps * 0.9
        InterfaceSample.objects.create(interface=link.a_interface, time=now, in_bps=busy, out_bps=busy,
                                       in_utilisation=0.9, out_utilisation=0.9)
        for day in range(4):
            start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            InterfaceRollup.objects.create(interface=link.a_interface, period="day", samples=288,
                                           start=start - timezone.timedelta(days=day), in_max_bps=busy,
                                           out_max_bps=busy, in_avg_bps=busy / 2, out_avg_bps=busy / 2)
        ConfigVersion.objects.create(device=Device.objects.get(name=f"{slug}-agg-1"), fetched_at=now, sha256="x",
                                     text=f"sysname {slug}-agg-1\n")


@pytest.fixture
def county_client(client, collected, make_user):
    client.force_login(make_user("engineer-nj", "engineer", region="nanjiang"))
    return client


@pytest.mark.parametrize("name", sorted(LIST_MARKERS))
def test_a_county_user_sees_only_their_county_in_lists_and_exports(county_client, name):
    inside, outside = LIST_MARKERS[name]
    page = county_client.get(reverse(name)).content.decode()
    assert inside in page and outside not in page
    if name in EXPORTABLE:
        for kind in ("csv", "xlsx"):
            response = county_client.get(reverse(name), {"export": kind})
            assert response.status_code == 200
        export = county_client.get(reverse(name), {"export": "csv"}).content.decode("utf-8-sig")
        assert inside in export and outside not in export
    if name in SEARCHABLE:
        searched = county_client.get(reverse(name), {"q": outside.split("/")[0]})
        assert searched.context["rows"] == []


@pytest.mark.parametrize("name", sorted(DETAIL_OBJECTS))
def test_a_county_user_gets_not_found_outside_their_county(county_client, name):
    assert county_client.get(reverse(name, args=[DETAIL_OBJECTS[name]("nanjiang")])).status_code == 200
    assert county_client.get(reverse(name, args=[DETAIL_OBJECTS[name]("zhongxin")])).status_code == 404


def test_a_county_user_cannot_drill_into_another_county(county_client):
    assert county_client.get(reverse("coverage"), {"region": "zhongxin"}).status_code == 404
    assert county_client.get(reverse("coverage"), {"region": "nanjiang-t01"}).status_code == 200


def test_a_city_manager_sees_every_county(client, collected, make_user):
    client.force_login(make_user("boss", "manager"))
    page = client.get(reverse("overview")).content.decode()
    assert "南江县" in page and "中心区" in page
    page = client.get(reverse("bandwidth:expansion")).content.decode()
    assert "nanjiang-t01-ar" in page and "zhongxin-t01-ar" in page


def test_an_account_without_role_sees_nothing(client, demo_inventory, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x" * 12))
    assert client.get(reverse("inventory:devices")).status_code == 403


def test_only_administrators_reach_the_django_admin(county_client):
    assert county_client.get("/admin/").status_code == 302


# availability (issue 13): a polled hour of each county's router.
@pytest.fixture(autouse=True)
def availability_buckets(request):
    if "county_client" not in request.fixturenames:
        return
    request.getfixturevalue("demo_inventory")
    from collectors.services.availability import record_polls

    routers = dict(Device.objects.filter(name__in=["nanjiang-agg-1", "zhongxin-agg-1"]).values_list("name", "pk"))
    record_polls({routers["nanjiang-agg-1"]: True, routers["zhongxin-agg-1"]: False})


# threat (issue 5): an alert from a Nanjiang address (in scope) and one from a Zhongxin address (out of scope).
THREAT_SOURCES = {"nanjiang": "10.19.1.77", "zhongxin": "10.16.1.77"}


def threat_alert(county_slug):
    from threat.models import Alert

    return Alert.objects.get(src=THREAT_SOURCES[county_slug])


@pytest.fixture(autouse=True)
def threat_alerts(request):
    if "county_client" not in request.fixturenames:
        return
    request.getfixturevalue("demo_inventory")
    from threat.services.alerts import ingest_alerts

    ingest_alerts([{"kind": "eternalblue", "severity": "critical", "src": src, "dst": None, "dport": 445,
                    "first_seen": "2026-05-12T08:00:00Z", "last_seen": "2026-05-12T08:00:01Z", "count": 1,
                    "evidence": [f"from {src}"]} for src in THREAT_SOURCES.values()], "pcap", locate=False)


def test_a_county_user_cannot_triage_incidents_outside_their_county(county_client):
    zhongxin, nanjiang = threat_alert("zhongxin").incident, threat_alert("nanjiang").incident
    assert county_client.post(reverse("threat:incident", args=[zhongxin.pk]), {"action": "resolve"}).status_code == 404
    response = county_client.post(reverse("threat:incidents_bulk"), {"action": "resolve",
                                                                      "incident": [nanjiang.pk, zhongxin.pk]})
    assert response.status_code == 404
    zhongxin.refresh_from_db()
    nanjiang.refresh_from_db()
    assert (zhongxin.status, nanjiang.status) == ("open", "open")


# compliance (issue 10): a failing result and a waiver on each county's aggregation router.
def compliance_result(county_slug):
    from policies.models import RuleResult

    return RuleResult.objects.get(device__name=f"{county_slug}-agg-1", rule="mgmt.ssh-only")


@pytest.fixture(autouse=True)
def compliance_results(request):
    if "county_client" not in request.fixturenames:
        return
    request.getfixturevalue("demo_inventory")
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from policies.models import RuleResult, Waiver

    now = timezone.now()
    owner = get_user_model().objects.create_user("compliance-owner", password="x" * 12)
    for slug in ("nanjiang", "zhongxin"):
        device = Device.objects.get(name=f"{slug}-agg-1")
        RuleResult.objects.create(device=device, rule="mgmt.ssh-only", status="fail", severity="high",
                                  evidence=[[23, "protocol inbound all"]], remediation=["protocol inbound ssh"],
                                  checked_at=now, since=now)
        Waiver.objects.create(device=device, rule="ntp.configured", owner=owner, reason=f"{slug} firmware",
                              expires_at=now + timezone.timedelta(days=30))


# egress (issue 10): the county routers' stored configs verified, so each has results (an uplink with no block).
@pytest.fixture(autouse=True)
def egress_results(request):
    if "county_client" not in request.fixturenames:
        return
    request.getfixturevalue("collected")
    from egress.services.verify import verify_devices

    verify_devices()


@pytest.mark.parametrize("report", ["checks", "exits", "bandwidth"])
def test_a_county_user_gets_only_their_county_in_the_egress_reports(county_client, report):
    for kind in ("csv", "xlsx"):
        assert county_client.get(reverse("egress:index"), {"export": kind, "report": report}).status_code == 200
    text = county_client.get(reverse("egress:index"), {"export": "csv", "report": report}).content.decode("utf-8-sig")
    assert "zhongxin-agg-1" not in text and "city-egress-fw-1" not in text
    assert ("nanjiang-agg-1" in text) == (report == "checks")


# changes (issue 11): a change awaiting approval on each county's router, with its audit entry.
def county_change(county_slug):
    from changes.models import ChangeRequest

    return ChangeRequest.objects.get(title=f"{county_slug}-ntp-change")


@pytest.fixture(autouse=True)
def change_requests(request):
    if "county_client" not in request.fixturenames:
        return
    request.getfixturevalue("demo_inventory")
    from django.contrib.auth import get_user_model

    from changes.choices import Action, TaskStatus
    from changes.models import ChangeRequest, ChangeTask
    from changes.services import audit

    author = get_user_model().objects.create_user("change-author", password="x" * 12)
    for slug in ("nanjiang", "zhongxin"):
        device = Device.objects.select_related("site__region").get(name=f"{slug}-agg-1")
        change = ChangeRequest.objects.create(title=f"{slug}-ntp-change", reason="NTP", region=device.site.region,
                                              author=author, status="awaiting_approval", targets=device.name)
        ChangeTask.objects.create(change=change, device=device, lines=["ntp-service unicast-server 10.0.250.11"],
                                  diff="+ntp-service unicast-server 10.0.250.11", status=TaskStatus.NEEDS_ATTENTION)
        audit.record(change, Action.CREATED, author, device=device, message=f"{slug} change")


def test_a_county_user_cannot_act_outside_their_county(county_client):
    from changes.models import ChangeRequest, ChangeTask

    zhongxin = county_change("zhongxin")
    for action in ("approve", "reject", "cancel", "confirm", "rollback"):
        assert county_client.post(reverse("changes:act", args=[zhongxin.pk]), {"action": action}).status_code == 404
    task = ChangeTask.objects.get(change=zhongxin)
    assert county_client.post(reverse("changes:resolve", args=[task.pk]),
                              {"kept": "kept", "note": "checked"}).status_code == 404
    assert county_client.post(reverse("changes:contain", args=[threat_alert("zhongxin").pk]),
                              {"kind": "shutdown-port"}).status_code == 404
    zhongxin.refresh_from_db()
    task.refresh_from_db()
    assert (zhongxin.status, task.status) == ("awaiting_approval", "needs_attention")
    # Findings and the egress roll-out take only what is in the user's scope: a Zhongxin finding makes no change.
    count = ChangeRequest.objects.count()
    response = county_client.post(reverse("changes:from_findings"), {"result": [compliance_result("zhongxin").pk]},
                                  follow=True)
    assert "CHANGE_NO_TARGETS" in response.content.decode() and ChangeRequest.objects.count() == count


def test_a_county_user_finds_only_their_county_where_is(county_client):
    """'Where is this IP / MAC / hostname?' answers from the user's scope only."""
    from django.utils import timezone

    from collectors.models import ArpEntry

    for slug, ip in (("nanjiang", "10.19.1.77"), ("zhongxin", "10.16.1.77")):
        ArpEntry.objects.create(device=Device.objects.get(name=f"{slug}-agg-1"), ip=ip, mac="70:6d:89:aa:82:bc",
                                interface="Vlanif10", seen_at=timezone.now())
    answer = county_client.get(reverse("bandwidth:where"), {"q": "agg-1"}).context["answer"]
    assert [d.name for d in answer["devices"]] == ["nanjiang-agg-1"]
    answer = county_client.get(reverse("bandwidth:where"), {"q": "706d.89aa.82bc"}).context["answer"]
    assert [a.ip for a in answer["arp"]] == ["10.19.1.77"]
    page = county_client.get(reverse("bandwidth:where"), {"q": "10.16.1.77"}).content.decode()
    assert "zhongxin-agg-1" not in page
