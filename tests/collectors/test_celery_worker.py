"""A real celery worker process for one county queue, as a county runs its own poller.

`celery -A web worker --pool=solo -Q county.nanjiang` is started with the broker the settings give (CI: Redis;
embedded: kombu's filesystem transport, in a folder of this test's own) and the session's test database
(pytest-django's: PostgreSQL test_<name>, or the SQLite file tests/conftest.py configures). A poll sent to
Nanjiang's queue is consumed and polls only Nanjiang's lab devices; a task on another county's queue is left
alone. An unreachable broker fails the test: CI must not pass without its queue.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import TEST_LAB

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
QUEUE = "county.nanjiang"
OTHER_COUNTY = "beiling"


def _database_url(settings_dict: dict) -> str:
    """The test database as DATABASE_URL, for the worker's web/config.py."""
    engine, name = settings_dict["ENGINE"], str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        if name.startswith("file:") or ":memory:" in name:
            pytest.fail("the SQLite test database is in memory, which another process cannot open; "
                        "tests/conftest.py's django_db_modify_db_settings should have made it a file")
        return "sqlite:///" + str(Path(name).resolve())
    if "postgresql" in engine:
        user = quote(settings_dict.get("USER") or "")
        password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        return f"postgres://{user}{password}@{host}{port}/{quote(name)}"
    pytest.fail(f"no DATABASE_URL for the worker with the database engine {engine}")


class Broker:
    """The settings' broker; the filesystem transport gets a folder of this module's own (same for the worker)."""

    def __init__(self, var_dir: Path):
        from django.conf import settings

        from web.celery import app

        self.app = app
        self.url = settings.CELERY_BROKER_URL
        self.var_dir = var_dir
        self.transport_options = {}
        if self.url.startswith("filesystem"):
            # The worker runs with ONENET_VAR_DIR=var_dir: the same folders web/settings.py gives it, under var_dir.
            home = str(settings.VAR_DIR)
            for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items():
                if isinstance(value, str) and value.startswith(home):
                    value = str(var_dir) + value[len(home):]
                    Path(value).mkdir(parents=True, exist_ok=True)
                self.transport_options[key] = value
            # kombu keeps the exchange bindings in `control` under the current directory unless told.
            self.transport_options.setdefault("control_folder", str(var_dir / "control"))

    def connection(self):
        return self.app.connection_for_write(transport_options=self.transport_options)

    def check(self):
        try:
            with self.connection() as conn:
                conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5, timeout=5)
        except Exception as error:
            pytest.fail(f"the celery broker {self.url} is unreachable ({error}); start it, or unset "
                        "CELERY_BROKER_URL for the embedded filesystem broker")

    def purge(self, queue: str) -> int:
        """Old messages of an earlier run would be consumed first; this test's queues start empty."""
        with self.connection() as conn:
            simple = conn.SimpleQueue(queue)
            try:
                return simple.clear()
            finally:
                simple.close()

    def send(self, region_id: int, queue: str, **options) -> str:
        from collectors.tasks import poll_region

        with self.connection() as conn:
            return poll_region.apply_async(kwargs={"region_id": region_id}, queue=queue, connection=conn,
                                           **options).id

    def take(self, queue: str, task_id: str) -> bool:
        """Take task_id back out of `queue` (proof it was not consumed); other messages are left there."""
        with self.connection() as conn:
            simple = conn.SimpleQueue(queue)
            try:
                others, found = [], False
                for _ in range(100):
                    try:
                        message = simple.get(block=True, timeout=2)
                    except simple.Empty:
                        break
                    if message.headers.get("id") == task_id:
                        message.ack()
                        found = True
                        break
                    others.append(message)
                for message in others:
                    message.requeue()
                return found
            finally:
                simple.close()


class Worker:
    """`queues`: the comma-separated queues it consumes; `name`: its node name (tests/changes/test_browser.py
    runs one for the dry-run queue and a county's)."""

    def __init__(self, broker: Broker, database_url: str, log: Path, queues: str = QUEUE,
                 name: str = f"nanjiang-test-{os.getpid()}"):
        from django.conf import settings

        self.log = log
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url, CELERY_BROKER_URL=broker.url, ONENET_VAR_DIR=str(broker.var_dir),
            # Its own var/ would give it its own secret key: the device credentials need this session's keys.
            ONENET_SECRET_KEY=settings.SECRET_KEY, ONENET_CREDENTIAL_KEY=settings.CREDENTIAL_KEY.decode(),
            ONENET_SNMP_TIMEOUT_MS="1500", ONENET_SNMP_RETRIES="1", PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        )
        command = [str(CELERY), "-A", "web", "worker", "--pool=solo", "-Q", queues, "-l", "info",
                   "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        with open(log, "wb") as out:
            # Run in its own var/: the filesystem transport writes its `control` folder under the current one.
            self.process = subprocess.Popen(command, cwd=broker.var_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, seconds: float) -> re.Match | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found or self.process.poll() is not None:
                return found
            time.sleep(0.2)
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # celery's warm shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = Broker(tmp_path_factory.mktemp("worker-var"))
    broker.check()
    broker.purge(QUEUE)
    return broker


@pytest.fixture(scope="module")
def worker(broker, django_db_setup, tmp_path_factory):
    from django.db import connection

    process = Worker(broker, _database_url(connection.settings_dict),
                     tmp_path_factory.mktemp("worker-log") / "worker.log")
    try:
        if not process.wait_for(r"\S+@\S+ ready\.", 60):
            pytest.fail(f"the celery worker did not start; its log:\n{process.text()[-4000:]}")
        yield process
    finally:
        process.stop()
    assert process.process.returncode is not None


def _county(slug):
    from inventory.models import Region

    return Region.objects.get(slug=slug, level="county")


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_nanjiang_worker_polls_nanjiang_and_only_nanjiang(lab_inventory, broker, worker):
    from collectors.models import DeviceState, PollRun
    from collectors.services.polling import pollable_devices

    nanjiang = _county("nanjiang")
    expected = set(pollable_devices(region_path=nanjiang.path).values_list("name", flat=True))
    lab_range = TEST_LAB["address_base"].rsplit(".", 2)[0] + "."
    assert expected and all(d.address.startswith(lab_range) for d in pollable_devices(region_path=nanjiang.path))
    assert not PollRun.objects.exists()
    task_id = broker.send(nanjiang.pk, QUEUE)
    done = worker.wait_for(rf"Task collectors\.poll_region\[{task_id}\] (succeeded|raised)", 60)
    assert done, f"the worker did not run the task within 60 s; its log:\n{worker.text()[-4000:]}"
    assert done.group(1) == "succeeded", worker.text()[-4000:]
    run = PollRun.objects.get()
    assert run.finished_at is not None and run.devices_polled + run.devices_failed == len(expected)
    polled = set(DeviceState.objects.filter(last_poll_at__isnull=False).values_list("device__name", flat=True))
    assert polled == expected  # every Nanjiang device, and nothing from the city or another county
    assert not DeviceState.objects.filter(last_poll_at__isnull=False).exclude(
        device__site__region__path__startswith=nanjiang.path).exists()
    silent = {d.name for d in lab_inventory.devices if {"snmp-timeout", "snmp-wrong-community"} & set(d.faults)}
    up = set(DeviceState.objects.filter(snmp_state="up").values_list("device__name", flat=True))
    assert up == expected - silent  # the worker reached the lab with this session's credentials


@pytest.mark.lab
@pytest.mark.django_db(transaction=True)
def test_a_task_for_another_county_is_left_for_that_county(lab_inventory, broker, worker):
    from collectors.models import DeviceState, PollRun

    other = _county(OTHER_COUNTY)
    queue = f"county.{other.slug}"
    broker.purge(queue)
    # It expires, so that a real worker for that county never runs it even if taking it back below failed.
    task_id = broker.send(other.pk, queue, expires=120)
    time.sleep(5)
    assert worker.process.poll() is None
    assert task_id not in worker.text()
    assert not PollRun.objects.exists() and not DeviceState.objects.filter(last_poll_at__isnull=False).exists()
    assert broker.take(queue, task_id), "the task left its queue although no worker consumes it"
