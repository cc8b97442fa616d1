"""Who may write, approve and run a change, and the audit log nobody can rewrite. No devices needed: the
changes here are set up as a dry run would leave them."""

import pytest
from django.db import IntegrityError, transaction

from changes.models import AuditEntry, ChangeRequest, ChangeTask
from changes.services import ChangeError, requests
from inventory.models import Device

pytestmark = pytest.mark.django_db

LINES = ["interface GigabitEthernet0/1", " description test"]


def dry_run_done(change: ChangeRequest) -> ChangeRequest:
    """What a dry run leaves when every device would change (the lab tests dry-run for real)."""
    for task in change.tasks.all():
        task.diff, task.push_lines = "+ description test", list(task.lines)
        task.save()
    ChangeRequest.objects.filter(pk=change.pk).update(status="awaiting_approval")
    change.refresh_from_db()
    return change


def new_change(author, *names, **options) -> ChangeRequest:
    devices = {Device.objects.get(name=name).pk: list(LINES) for name in names}
    return requests.create(author, requests.Plan("a title", "a reason", devices), **options)


@pytest.fixture
def approving(monkeypatch):
    """Approval without the push it starts (pushing is for the lab tests): the approval rules alone."""
    started = []
    monkeypatch.setattr("changes.services.pipeline.start", lambda change, user=None: started.append(change.pk))
    return started


def test_the_author_cannot_approve_their_own_change(demo_inventory, make_user, approving):
    alice, bob = make_user("alice"), make_user("bob")
    change = dry_run_done(new_change(alice, "nanjiang-agg-1"))
    with pytest.raises(ChangeError) as refused:
        requests.approve(change, alice)
    assert refused.value.code == "CHANGE_SELF_APPROVAL"
    change.refresh_from_db()
    assert change.status == "awaiting_approval" and change.approved_by is None and approving == []
    change = requests.approve(change, bob)
    assert (change.status, change.approved_by) == ("approved", bob) and approving == [change.pk]
    assert list(change.audit.values_list("action", "username")) == [("created", "alice"), ("approved", "bob")]


def test_four_eyes_can_be_turned_off_for_a_one_engineer_site(demo_inventory, make_user, approving, settings):
    settings.ONENET_CHANGE_FOUR_EYES = False
    alice = make_user("alice")
    change = requests.approve(dry_run_done(new_change(alice, "nanjiang-agg-1")), alice)
    assert change.approved_by == alice and approving == [change.pk]


@pytest.mark.parametrize(("role", "region", "code"), [
    ("manager", None, "CHANGE_NOT_ALLOWED"), ("security", None, "CHANGE_NOT_ALLOWED"),
    ("engineer", "zhongxin", "CHANGE_OUT_OF_SCOPE")])
def test_only_an_engineer_whose_scope_covers_the_change_approves_it(demo_inventory, make_user, approving, role,
                                                                    region, code):
    change = dry_run_done(new_change(make_user("alice", region="nanjiang"), "nanjiang-agg-1"))
    with pytest.raises(ChangeError) as refused:
        requests.approve(change, make_user("other", role, region=region))
    assert refused.value.code == code and approving == []
    assert requests.approve(change, make_user("nanjiang-bob", region="nanjiang")).status == "approved"


def test_a_change_is_scoped_to_the_narrowest_region_holding_its_devices(demo_inventory, make_user):
    alice = make_user("alice")
    assert new_change(alice, "nanjiang-agg-1").region.slug == "nanjiang"
    assert new_change(alice, "nanjiang-agg-1", "zhongxin-agg-1").region.level == "city"
    county = make_user("county", region="nanjiang")
    assert list(requests.visible_changes(county)) == [ChangeRequest.objects.get(region__slug="nanjiang")]
    with pytest.raises(ChangeError, match="CHANGE_OUT_OF_SCOPE"):
        new_change(county, "nanjiang-agg-1", "zhongxin-agg-1")


@pytest.mark.parametrize(("lines", "code"), [
    ([], "CHANGE_NO_LINES"), (["ok", "x" * 600], "CHANGE_BAD_LINE"), (["interface X\r\n reload"], "CHANGE_BAD_LINE"),
    (["snmp-agent\x1b[2J"], "CHANGE_BAD_LINE"), (["l"] * 2001, "CHANGE_TOO_LARGE")])
def test_bad_lines_are_refused_with_the_line_named(demo_inventory, make_user, lines, code):
    device = Device.objects.get(name="nanjiang-agg-1")
    with pytest.raises(ChangeError) as refused:
        requests.create(make_user("alice"), requests.Plan("t", "r", {device.pk: lines}))
    assert refused.value.code == code
    assert not ChangeRequest.objects.exists()


def test_each_platform_needs_its_own_lines(demo_inventory, make_user):
    devices = [Device.objects.filter(platform=slug).first() for slug in ("huawei_vrp", "cisco_ios")]
    with pytest.raises(ChangeError, match="CHANGE_NO_TEXT_FOR_PLATFORM"):
        requests.plan_from_text(devices, {devices[0].platform: "ntp server 10.0.250.11"}, "t", "r")
    plan = requests.plan_from_text(devices, {"*": "a line\n\n another"}, "t", "r")
    assert set(map(tuple, plan.lines.values())) == {("a line", " another")}


@pytest.mark.parametrize("seconds", [59, 7201])
def test_the_confirm_timeout_stays_inside_what_every_device_supports(demo_inventory, make_user, seconds):
    with pytest.raises(ChangeError, match="CHANGE_BAD_TIMEOUT"):
        new_change(make_user("alice"), "nanjiang-agg-1", confirm_timeout=seconds)


def test_the_pilot_is_the_first_devices_and_the_rest_follow(demo_inventory, make_user):
    change = new_change(make_user("alice"), "nanjiang-agg-1", "nanjiang-t01-ar", "nanjiang-t02-ar", pilot_size=1)
    assert list(change.tasks.order_by("device__name").values_list("device__name", "batch")) == [
        ("nanjiang-agg-1", 0), ("nanjiang-t01-ar", 1), ("nanjiang-t02-ar", 1)]


def test_a_rejected_or_cancelled_change_never_runs(demo_inventory, make_user, approving):
    alice, bob = make_user("alice"), make_user("bob")
    change = requests.reject(dry_run_done(new_change(alice, "nanjiang-agg-1")), bob, "not now")
    assert change.status == "rejected" and change.tasks.get().status == "cancelled"
    with pytest.raises(ChangeError, match="CHANGE_WRONG_STATUS"):
        requests.approve(change, bob)
    other = requests.cancel(dry_run_done(new_change(alice, "nanjiang-agg-1")), alice)
    assert other.status == "cancelled" and approving == []


def test_the_audit_log_cannot_be_edited_or_deleted(demo_inventory, make_user):
    change = new_change(make_user("alice"), "nanjiang-agg-1")
    entry = change.audit.get()
    entry.message = "nothing happened"
    for attempt in (entry.save, entry.delete, lambda: AuditEntry.objects.update(message="x"),
                    lambda: AuditEntry.objects.all().delete(), lambda: change.audit.all().delete()):
        with pytest.raises(PermissionError):
            attempt()
    assert AuditEntry.objects.get().message.startswith("a title")


def test_the_admin_shows_changes_and_the_audit_log_read_only(demo_inventory, make_user, client):
    change = new_change(make_user("alice"), "nanjiang-agg-1")
    client.force_login(make_user("root", "admin", superuser=True))
    entry = change.audit.get()
    page = client.get(f"/admin/changes/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/changes/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/changes/auditentry/add/").status_code == 403
    assert client.post(f"/admin/changes/changerequest/{change.pk}/change/", {"status": "completed"}).status_code == 403
    assert AuditEntry.objects.count() == 1 and ChangeRequest.objects.get().status == "preparing"


def test_a_device_holds_one_active_change_at_a_time(demo_inventory, make_user):
    alice = make_user("alice")
    first, second = new_change(alice, "nanjiang-agg-1"), new_change(alice, "nanjiang-agg-1")
    ChangeTask.objects.filter(change=first).update(status="awaiting_confirm")
    for status in ("pushing", "awaiting_confirm", "needs_attention"):
        with pytest.raises(IntegrityError), transaction.atomic():
            ChangeTask.objects.filter(change=second).update(status=status)
    ChangeTask.objects.filter(change=first).update(status="confirmed")
    ChangeTask.objects.filter(change=second).update(status="pushing")
