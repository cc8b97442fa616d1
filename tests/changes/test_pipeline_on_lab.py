"""The change pipeline against the lab's SSH devices, all four vendors (VRP in both push models): a good change
is pushed and confirmed; one that cuts management rolls back by itself; one nobody confirms rolls back; two
changes never interleave on a device; a device that drops the session mid-push ends rolled back or flagged.

Each test changes its own device (by kind and position) and puts it back afterwards.
"""

from __future__ import annotations

import pytest

from tests.changes.conftest import CONFIRM_S, KINDS, harmless_lines, lab_devices, running_config

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def change_for(author, device, lines, **options):
    from changes.services import dry_run, requests
    from inventory.models import Device

    row = Device.objects.get(name=device.name)
    plan = requests.Plan(f"test on {device.name}", "a test of the pipeline", {row.pk: lines})
    options.setdefault("confirm_timeout", CONFIRM_S)
    return dry_run.prepare(requests.create(author, plan, **options))


def same_config(device, one: str, other: str) -> bool:
    import platforms
    from changes.services.devices import same_config as same

    return same(platforms.get(device.platform), one, other)


def actions(change) -> list[str]:
    return list(change.audit.values_list("action", flat=True))


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_change_is_pushed_checked_confirmed_and_backed_up(lab_inventory, engineers, put_back, kind):
    from changes.services import requests
    from collectors.models import ConfigVersion

    alice, bob = engineers
    device = lab_devices(lab_inventory, kind)[0]
    put_back(device.name)
    change = change_for(alice, device, harmless_lines(device))
    task = change.tasks.get()
    assert change.status == "awaiting_approval"
    assert "+ description onenet-change-test" in task.diff.replace("+  ", "+ ")
    assert "description onenet-change-test" not in running_config(device.name)  # a dry run changes nothing

    change = requests.approve(change, bob)
    task.refresh_from_db()
    assert (change.status, task.status) == ("completed", "confirmed"), task.reason
    assert "description onenet-change-test" in running_config(device.name)
    assert "description onenet-change-test" in ConfigVersion.objects.filter(device__name=device.name).latest(
        "fetched_at").text
    assert task.pre_config and "onenet-change-test" not in task.pre_config
    assert actions(change) == ["created", "dry_run", "approved", "started", "pushed", "post_check", "confirmed",
                               "backup", "completed"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_nobody_confirms_rolls_back_by_itself(lab_inventory, engineers, put_back, kind):
    from datetime import timedelta

    from django.utils import timezone

    from changes.services import pipeline, requests

    alice, bob = engineers
    device = lab_devices(lab_inventory, kind)[1]
    put_back(device.name)
    before = running_config(device.name)
    change = requests.approve(change_for(alice, device, harmless_lines(device), auto_confirm=False), bob)
    task = change.tasks.get()
    assert (change.status, task.status) == ("awaiting_confirm", "awaiting_confirm"), task.reason
    assert "description onenet-change-test" in running_config(device.name)

    # Nobody confirms: past the deadline the sweep (beat runs it every 30 s) rolls it back.
    assert pipeline.sweep(now=timezone.now() + timedelta(seconds=CONFIRM_S + 1))["rolled_back_unconfirmed"] == 1
    task.refresh_from_db()
    change.refresh_from_db()
    assert (task.status, change.status) == ("rolled_back", "failed"), task.reason
    assert "nobody confirmed it in time" in task.reason
    assert same_config(device, running_config(device.name), before)
    assert "rolled_back" in actions(change)


def test_a_confirmed_pilot_releases_the_rest_and_a_failed_pilot_stops_the_rollout(lab_inventory, engineers,
                                                                                  put_back):
    from changes.services import dry_run, requests
    from inventory.models import Device

    alice, bob = engineers
    devices = lab_devices(lab_inventory, "ios")[2:5]
    for device in devices:
        put_back(device.name)
    rows = {d.name: Device.objects.get(name=d.name) for d in devices}
    plan = requests.Plan("three devices", "pilot first", {rows[d.name].pk: harmless_lines(d) for d in devices})
    change = dry_run.prepare(requests.create(alice, plan, confirm_timeout=CONFIRM_S, auto_confirm=False,
                                              pilot_size=1))
    change = requests.approve(change, bob)
    statuses = dict(change.tasks.values_list("device__name", "status"))
    pilot = sorted(statuses)[0]
    assert statuses == {name: "awaiting_confirm" if name == pilot else "pending" for name in statuses}
    assert requests.confirm(change, bob) == 1  # the pilot is kept: the rest go out
    change.refresh_from_db()
    statuses = dict(change.tasks.values_list("device__name", "status"))
    assert statuses == {name: "confirmed" if name == pilot else "awaiting_confirm" for name in statuses}
    assert change.status == "awaiting_confirm"
    requests.confirm(change, bob)
    change.refresh_from_db()
    assert change.status == "completed" and set(change.tasks.values_list("status", flat=True)) == {"confirmed"}

    # A line the pilot device refuses: nothing changes on it, and the other devices are not touched.
    before = {d.name: running_config(d.name) for d in devices}
    bad = {rows[d.name].pk: [*harmless_lines(d)[:1], " this-is-no-command at all"] for d in devices}
    change = dry_run.prepare(requests.create(alice, requests.Plan("bad", "a refused line", bad),
                                              confirm_timeout=CONFIRM_S, pilot_size=1))
    change = requests.approve(change, bob)
    statuses = dict(change.tasks.values_list("device__name", "status"))
    pilot = sorted(statuses)[0]
    assert change.status == "failed"
    assert statuses == {name: "failed" if name == pilot else "cancelled" for name in statuses}
    assert "this-is-no-command" in change.tasks.get(device__name=pilot).reason
    assert all(same_config(d, running_config(d.name), before[d.name]) for d in devices)


def test_two_changes_never_interleave_on_one_device(lab_inventory, engineers, put_back):
    from django.db import IntegrityError, transaction

    from changes.models import ChangeTask
    from changes.services import requests

    alice, bob = engineers
    device = lab_devices(lab_inventory, "comware")[2]
    put_back(device.name)
    first = requests.approve(change_for(alice, device, harmless_lines(device), auto_confirm=False), bob)
    assert first.status == "awaiting_confirm"
    other = [harmless_lines(device)[0], " description the-second-change"]
    second = requests.approve(change_for(alice, device, other), bob)
    task = second.tasks.get()
    assert (second.status, task.status) == ("failed", "failed")
    assert f"change #{first.pk}" in task.reason and "did not touch it" in task.reason
    assert "the-second-change" not in running_config(device.name)
    # The database itself refuses a second active task on the device, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeTask.objects.filter(pk=task.pk).update(status="pushing")
    requests.confirm(first, bob)
    assert first.tasks.get().status == "confirmed"
    config = running_config(device.name)
    assert "onenet-change-test" in config and "the-second-change" not in config


def lab_command(device, command: str) -> str:
    from tests.conftest import TEST_LAB
    from tests.lab.management import run

    return run(device, TEST_LAB["ssh_port"], command)


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_that_cuts_management_rolls_back_by_itself_and_is_recorded(lab_inventory, engineers, put_back,
                                                                            kind):
    from changes.services import requests
    from tests.conftest import TEST_LAB
    from tests.lab.management import cut_management_lines, snmp_silent, ssh_refused

    alice, bob = engineers
    device = lab_devices(lab_inventory, kind)[3]
    put_back(device.name)
    # The lab's out-of-band console puts the device back if OneNet could not (so a failure here never leaves
    # the shared lab cut off for the tests after it); it is spent as soon as SSH answers again.
    lab_command(device, "lab-fault rescue-after 1200")
    before = running_config(device.name)
    change = requests.approve(change_for(alice, device, cut_management_lines(device)), bob)
    task = change.tasks.get()
    assert (task.status, change.status) == ("rolled_back", "failed"), task.reason
    assert "post-check failed" in task.reason and "a new SSH session was refused" in task.reason
    assert "SNMP stopped answering" in task.reason
    assert not ssh_refused(device, TEST_LAB["ssh_port"]) and not snmp_silent(device, TEST_LAB["snmp_port"])
    assert same_config(device, running_config(device.name), before)
    assert ["post_check", "rolled_back"] == [a for a in actions(change) if a in ("post_check", "rolled_back")]
    assert change.audit.get(action="post_check").outcome == "failed"


@pytest.mark.parametrize("kind", KINDS)
def test_a_device_that_drops_the_session_mid_push_ends_rolled_back_or_flagged(lab_inventory, engineers, put_back,
                                                                              kind):
    from changes.services import requests

    alice, bob = engineers
    device = lab_devices(lab_inventory, kind)[4]
    put_back(device.name)
    before = running_config(device.name)
    lines = [*harmless_lines(device), " shutdown", " undo shutdown" if kind in ("vrp8", "vrp5", "comware")
             else " no shutdown"]
    lab_command(device, "lab-fault drop-session-after 2")  # the interface and its description, then gone
    change = requests.approve(change_for(alice, device, lines), bob)
    task = change.tasks.get()
    assert change.status == "failed" and task.status in ("rolled_back", "needs_attention"), task.reason
    assert "lost" in task.reason or "interrupted" in task.reason, task.reason
    if task.status == "rolled_back":
        assert same_config(device, running_config(device.name), before)
    else:
        assert "Check it" in task.reason
