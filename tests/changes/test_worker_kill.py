"""A celery worker killed (SIGKILL) in the middle of a push leaves every device either changed and recorded, or
rolled back: never unknown. The worker is real (`celery -A web worker -Q county.nanjiang`, the settings'
broker: Redis in CI), the devices are the lab's Nanjiang routers, and the kill comes while a device's push is
between its commit and its confirm. The same worker started again settles its devices before anything else.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.changes.conftest import CONFIRM_S, harmless_lines, running_config, sending_to
from tests.collectors.test_celery_worker import QUEUE, Broker, Worker, _database_url

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

# Nanjiang's routers with no planted fault: VRP8, VRP one-stage, Comware and two RGOS (no commit-confirm).
DEVICES = ["nanjiang-agg-1", "nanjiang-t01-ar", "nanjiang-t02-v02-cpe", "nanjiang-t01-v01-cpe",
           "nanjiang-t03-v01-cpe"]
FINAL = {"confirmed", "rolled_back", "failed", "cancelled", "unchanged"}


@pytest.fixture
def broker(tmp_path_factory):
    broker = Broker(tmp_path_factory.mktemp("kill-var"))
    broker.check()
    broker.purge(QUEUE)
    with sending_to(broker):  # approve sends the pushes from this process, as the console does
        yield broker


def wait(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} within {seconds} s")


def test_a_worker_killed_mid_push_leaves_no_device_in_an_unknown_state(lab_inventory, engineers, put_back, broker,
                                                                      tmp_path, inline):
    from django.db import connection

    from changes.models import ChangeTask
    from changes.services import dry_run, requests
    from changes.services.pipeline import INLINE
    from inventory.models import Device

    alice, bob = engineers
    topology = {d.name: d for d in lab_inventory.devices}
    rows = {name: Device.objects.get(name=name) for name in DEVICES}
    for name in DEVICES:
        put_back(name)
    before = {name: running_config(name) for name in DEVICES}
    plan = requests.Plan("kill test", "a worker dies mid-push",
                         {rows[name].pk: harmless_lines(topology[name]) for name in DEVICES})
    change = dry_run.prepare(requests.create(alice, plan, confirm_timeout=CONFIRM_S, pilot_size=0))

    name = f"changes-kill-{os.getpid()}"
    worker = Worker(broker, _database_url(connection.settings_dict), tmp_path / "worker.log", QUEUE, name)
    try:
        assert worker.wait_for(r"\S+@\S+ ready\.", 60), worker.text()[-3000:]
        token = INLINE.set(False)  # approve sends the pushes to Nanjiang's queue, as the console does
        try:
            requests.approve(change, bob)
        finally:
            INLINE.reset(token)
        # Kill it once a device has been committed and is not yet confirmed (its post-check is running).
        wait(lambda: ChangeTask.objects.filter(change=change, phase__in=["committing", "checking"]).exists(), 90,
             "no push reached its commit")
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(10)
        left = dict(ChangeTask.objects.filter(change=change).values_list("device__name", "status"))
        assert "pushing" in left.values(), left  # caught in the middle

        again = Worker(broker, _database_url(connection.settings_dict), tmp_path / "worker-again.log", QUEUE, name)
        try:
            wait(lambda: set(ChangeTask.objects.filter(change=change).values_list("status", flat=True)) <= FINAL, 120,
                 "the restarted worker did not settle every device")
        finally:
            again.stop()
    finally:
        worker.stop()

    for task in ChangeTask.objects.filter(change=change).select_related("device"):
        config = running_config(task.device.name)
        if task.status == "confirmed":
            assert "onenet-change-test" in config, task.device.name
        else:
            assert "onenet-change-test" not in config, (task.device.name, task.status, task.reason)
            assert task.status != "rolled_back" or "left mid-push" in task.reason or "stopped" in task.reason
    assert before.keys() == set(DEVICES)
