"""Fixtures of the change pipeline's tests: two engineers, the lab's devices by kind, and devices put back.

The pipeline runs in the test's own process (`changes.services.pipeline.INLINE`), except in
test_worker_kill.py, which runs a real celery worker. Tests that push use `transaction=True`: pushes run in
threads with their own database connections, which must see the test's rows.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

# Device kinds: one lab device of each push model (VRP8 commits in two stages with `commit trial`; VRP5 and RGOS
# have no commit-confirm of their own; Comware and IOS have theirs).
KINDS = ["vrp8", "vrp5", "comware", "ios", "rgos"]
PLATFORM = {"vrp8": "huawei_vrp", "vrp5": "huawei_vrp", "comware": "hp_comware", "ios": "cisco_ios",
            "rgos": "ruijie_os"}
CONFIRM_S = 1200  # the lab's timers run at 0.05: the device's own 20 minutes last 60 s, ample for a post-check


def lab_devices(topology, kind: str) -> list:
    """Routed lab devices of a kind with no planted fault, in a stable order."""
    from lab.ssh.configs import is_switch, is_two_stage

    def fits(device) -> bool:
        if device.status != "active" or is_switch(device) or device.platform != PLATFORM[kind] or device.faults:
            return False
        if kind in ("vrp8", "vrp5"):
            return is_two_stage(device) == (kind == "vrp8")
        return True

    return [d for d in topology.devices if fits(d)]


def harmless_lines(device) -> list[str]:
    """A change no rule and no other test cares about: a description on the device's last interface."""
    return [f"interface {device.interfaces[-1].name}", " description onenet-change-test"]


@pytest.fixture(autouse=True)
def inline():
    from changes.services.pipeline import INLINE

    token = INLINE.set(True)
    yield
    INLINE.reset(token)


@pytest.fixture
def engineers(make_user):
    """alice writes changes, bob approves them; both engineers of the whole network."""
    return make_user("alice"), make_user("bob")


@pytest.fixture
def put_back(lab_inventory):
    """Call with a device name before changing it: after the test its running config is what it was."""
    import platforms
    from collectors.services.hostkeys import connection_info
    from inventory.models import Device

    saved = {}

    def remember(name: str) -> None:
        device = Device.objects.select_related("ssh_credential", "ssh_host_key").get(name=name)
        with platforms.open_driver(device.platform, connection_info(device)) as driver:
            saved[name] = (device, driver.normalise_config(driver.running_config()))

    yield remember
    for device, original in saved.values():
        with platforms.open_driver(device.platform, connection_info(device)) as driver:
            if driver.has_pending_commit():
                driver.rollback()
            now = driver.normalise_config(driver.running_config())
            if driver.platform.parse(now).lines() != driver.platform.parse(original).lines():
                driver.load_replace_candidate(config=original)
                driver.commit_config(message="put back after a test")


def running_config(name: str) -> str:
    import platforms
    from collectors.services.hostkeys import connection_info
    from inventory.models import Device

    device = Device.objects.select_related("ssh_credential", "ssh_host_key").get(name=name)
    with platforms.open_driver(device.platform, connection_info(device)) as driver:
        return driver.normalise_config(driver.running_config())


@contextmanager
def sending_to(broker):
    """This process's celery app sends to `broker` (a tests/collectors/test_celery_worker.Broker, whose worker
    reads its own folders under the filesystem transport); put back after."""
    from web.celery import app

    saved = app.conf.broker_transport_options
    app.conf.broker_transport_options = dict(broker.transport_options or saved)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.broker_transport_options = saved
        _forget_connections(app)


def _forget_connections(app) -> None:
    """The app's broker pool was made with the broker options it had then; the next send makes a new one. kombu
    keeps its pools in process-wide groups keyed by the connection's URL and options, so those are emptied too:
    a closed pool left there would be handed out again ("Acquire on closed pool")."""
    from kombu import pools

    pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
