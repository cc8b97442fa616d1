"""The key flow of issue 11 in a real browser (Playwright driving Debian's chromium) against the real lab and a
real celery worker: an engineer turns a failing compliance finding into a change and sees its dry run; a second
engineer approves it and watches the page follow the push until the device is confirmed; after a backup the
finding passes. No page of the flow may break the console's Content-Security-Policy.

The console runs in pytest-django's live server; the worker (tests/collectors/test_celery_worker.py's `Worker`)
consumes the dry-run queue ("celery") and the device's county queue, as in production, and reaches the lab with
this session's database and keys. Waits are on the page's content, with generous deadlines (the suite runs with
both cores busy); nothing here is timed.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest

from tests.changes.conftest import CONFIRM_S, sending_to
from tests.collectors.test_celery_worker import Broker, Worker, _database_url

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery"  # tests/conftest.py's make_user
RULE = "ntp.configured"
STEP_MS = 240_000  # a dry run or a push with its post-check, on a loaded machine
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")


@pytest.fixture
def inline():
    """Overrides tests/changes/conftest.py's: here the worker runs the pipeline, never this process."""
    from changes.services.pipeline import INLINE

    token = INLINE.set(False)
    yield
    INLINE.reset(token)


def faulty_router(topology):
    """A routed lab device whose only planted fault is the missing NTP server (its remediation adds one line)."""
    from lab.ssh.configs import is_switch

    return next(d for d in topology.devices
                if d.status == "active" and not is_switch(d) and list(d.faults) == ["no-ntp"])


@pytest.fixture
def worker(lab_inventory, django_db_setup, tmp_path_factory):
    """A worker for the dry-run queue and the router's county queue; the console's celery app sends to its broker."""
    from django.db import connection

    from changes.services.pipeline import county_of
    from collectors.services.schedules import queue_for
    from inventory.models import Device

    device = Device.objects.select_related("site__region").get(name=faulty_router(lab_inventory).name)
    queues = ["celery", queue_for(county_of(device))]
    broker = Broker(tmp_path_factory.mktemp("browser-worker-var"))
    broker.check()
    for queue in queues:
        broker.purge(queue)
    with sending_to(broker):
        process = Worker(broker, _database_url(connection.settings_dict),
                         tmp_path_factory.mktemp("browser-worker-log") / "worker.log", queues=",".join(queues),
                         name=f"changes-browser-test-{os.getpid()}")
        try:
            if not process.wait_for(r"\S+@\S+ ready\.", 90):
                pytest.fail(f"the celery worker did not start; its log:\n{process.text()[-4000:]}")
            yield process
        finally:
            process.stop()


@contextmanager
def browser(console: list):
    """One chromium page; every console message and page error is kept in `console` with the page's URL."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = chromium.new_context(locale="zh-CN")
            context.set_default_timeout(60_000)
            page = context.new_page()
            page.on("console", lambda message: console.append((page.url, message.type, message.text)))
            page.on("pageerror", lambda error: console.append((page.url, "pageerror", str(error))))
            yield page
        finally:
            chromium.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def log_out(page) -> None:
    page.click("header .who form[action$='/logout/'] button")
    page.wait_for_load_state()


def wait_for(page, selector: str, worker, what: str):
    """The page shows `selector` (after any reloads its script makes), or the test fails with the worker's log."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, timeout=STEP_MS)
    except PlaywrightTimeout:
        pytest.fail(f"{what}: the page never showed {selector!r}; it shows:\n{page.inner_text('main')[:3000]}\n"
                    f"the worker's log:\n{worker.text()[-4000:]}")
    return page.query_selector(selector)


def test_an_engineer_fixes_a_finding_through_a_change_a_second_approves_and_it_passes(
        lab_inventory, engineers, put_back, worker, live_server, settings):
    from changes.models import ChangeRequest
    from collectors.services.backup import backup_devices
    from policies.models import RuleResult

    # The lab's timers run at 0.05: the device's own commit-confirm must outlast a post-check on a busy machine.
    settings.ONENET_CHANGE_CONFIRM_TIMEOUT_S = CONFIRM_S
    router = faulty_router(lab_inventory)
    put_back(router.name)
    assert backup_devices(device_name=router.name)["failed"] == 0
    finding = RuleResult.objects.get(device__name=router.name, rule=RULE)
    assert finding.status == "fail" and finding.remediation, finding.message
    base, console = live_server.url, []

    # alice: the failing finding, ticked, becomes a change; its dry run (by the worker) shows the line it adds.
    with browser(console) as page:
        log_in(page, base, "alice")
        page.goto(f"{base}/compliance/findings/?device={router.name}&rule={RULE}")
        page.check(f'input[name=result][value="{finding.pk}"]')
        page.fill("#change-from-findings input[name=reason]", "NTP for the logs' timestamps")
        page.click("#change-from-findings button[type=submit]")
        page.wait_for_url(re.compile(r"/changes/\d+/$"))
        change_url = page.url
        followed = page.query_selector("#change-live") is not None  # still preparing: its script follows it
        polls = []
        page.on("request", lambda request: polls.append(request.url) if "/progress/" in request.url else None)
        added = wait_for(page, "pre.diff span.add", worker, "the dry run")
        assert polls or not followed, "the page showed the dry run without following the change"
        diff = page.inner_text(".task-diff pre.diff")
        assert re.search(r"^\+\s*ntp.*10\.0\.250\.11", diff, re.M), diff
        assert added is not None and "10.0.250.11" in diff
        assert page.query_selector("button.approve") is None  # four eyes: not for the author
        assert page.query_selector(".why-no-approve") is not None
        log_out(page)

    change = ChangeRequest.objects.get(pk=int(change_url.rstrip("/").rsplit("/", 1)[1]))
    assert (change.status, change.source, change.rules) == ("awaiting_approval", "compliance", [RULE])
    assert change.tasks.get().device.name == router.name

    # bob: approves; the page follows the push (its script reloads it as the change moves) until it is confirmed.
    with browser(console) as page:
        log_in(page, base, "bob")
        page.goto(change_url)
        page.click("button.approve")
        page.wait_for_url(change_url)
        wait_for(page, "#change-status.status-completed", worker, "the roll-out")
        row = page.query_selector('tr[data-task][data-status="confirmed"]')
        assert row is not None and router.name in row.inner_text(), page.inner_text("#change-tasks")
        audit = page.inner_text("table.change-audit")
        assert "bob" in audit and "alice" in audit

    change.refresh_from_db()
    task = change.tasks.get()
    assert (change.status, task.status, change.approved_by.username) == ("completed", "confirmed", "bob"), task.reason

    # A backup of the device, and the finding passes on the compliance page.
    assert backup_devices(device_name=router.name)["failed"] == 0
    assert RuleResult.objects.get(pk=finding.pk).status == "pass"
    with browser(console) as page:
        log_in(page, base, "bob")
        page.goto(f"{base}/compliance/findings/?device={router.name}&rule={RULE}")
        status = page.query_selector("table.findings .compliance-status")
        assert status is not None and "status-pass" in (status.get_attribute("class") or "")

    violations = [entry for entry in console if any(word in entry[2] for word in CSP_WORDS)]
    assert not violations, violations
    errors = [entry for entry in console if entry[1] in ("error", "pageerror") and "/changes/" in entry[0]]
    assert not errors, errors
