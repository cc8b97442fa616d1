"""Shared fixtures: the demo inventory from the lab topology, and console users per role and scope."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_path(*parts) -> Path:
    """A file of ../shared/corpus; skips when the corpus is absent unless ONENET_REQUIRE_CORPUS=1 (CI)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        if os.environ.get("ONENET_REQUIRE_CORPUS") == "1":
            pytest.fail(f"corpus file {path} is missing and ONENET_REQUIRE_CORPUS=1")
        pytest.skip(f"corpus file {path} is not here (../shared/corpus is read, never copied)")
    return path


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """The test database is this session's own. SQLite: a file (not shared-cache memory), so a real celery worker
    process started by a test (tests/collectors/test_celery_worker.py) opens the same database. PostgreSQL:
    test_<name>_<pid>, so two sessions on one server (a developer's and CI's) never drop each other's database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if (database.get("TEST") or {}).get("NAME"):
        return
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    elif database["ENGINE"].endswith("postgresql"):
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture
def demo_inventory(db):
    """The demo lab topology imported as the inventory; returns the Topology."""
    from inventory.services import import_document
    from lab.topology import generate

    topology = generate("demo", 1)
    import_document(topology.to_inventory(), "demo")
    return topology


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    from inventory.models import Region
    from web.models import Profile

    def make(username, role="engineer", region=None, superuser=False):
        user = get_user_model().objects.create_user(username, password="correct-horse-battery",
                                                    is_staff=superuser, is_superuser=superuser)
        Profile.objects.create(user=user, role=role,
                               region=Region.objects.get(slug=region) if region else None)
        return user

    return make


# The lab the tests run against: its own loopback range and ports, so a demo lab on 127.10.x.x can run too, and
# unique per pytest session (from its pid), so two sessions at once neither share nor stop each other's lab.
_SESSION = os.getpid()
TEST_LAB = {"address_base": f"127.{90 + _SESSION % 100}.0.1", "snmp_port": 20000 + _SESSION % 20000,
            "ssh_port": 20000 + _SESSION % 20000 + 1, "scale": "demo", "seed": 1}


@pytest.fixture(scope="session")
def lab_ports():
    return TEST_LAB["snmp_port"], TEST_LAB["ssh_port"]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The demo lab's real SNMP agents and SSH devices, started once per test session, stopped after."""
    from lab.services import snmp_answers, tcp_answers
    from lab.topology import generate

    topology = generate(TEST_LAB["scale"], TEST_LAB["seed"], TEST_LAB["address_base"])
    state_dir = tmp_path_factory.mktemp("lab")
    common = ["--scale", TEST_LAB["scale"], "--seed", str(TEST_LAB["seed"]), "--address-base",
              TEST_LAB["address_base"]]
    processes = [  # one state directory for both: the SSH devices publish their management plane to the agents
        subprocess.Popen([sys.executable, "-m", "lab.snmp", "--port", str(TEST_LAB["snmp_port"]), "--state-dir",
                          str(state_dir), *common], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "lab.ssh", "--port", str(TEST_LAB["ssh_port"]), "--state-dir",
                          str(state_dir), "--timer-scale", "0.05", *common], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
    ]
    last = [d for d in topology.devices if d.status == "active" and d.snmp_version == "2c" and not
            {"snmp-timeout", "snmp-wrong-community"} & set(d.faults)][-1]
    deadline = time.monotonic() + 60
    while not (snmp_answers(last.address, TEST_LAB["snmp_port"], last.snmp_community)
               and tcp_answers(last.address, TEST_LAB["ssh_port"])):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            for p in processes:
                p.kill()
            pytest.fail("the test lab did not start")
        time.sleep(0.2)
    yield topology
    for p in processes:
        p.terminate()
    for p in processes:
        p.wait(timeout=10)


@pytest.fixture
def lab_inventory(db, lab):
    """The running test lab imported as the inventory, with the lab's ports."""
    from inventory.services import import_document
    from lab.services import inventory_document

    import_document(inventory_document(lab, TEST_LAB["snmp_port"], TEST_LAB["ssh_port"]), "test-lab")
    return lab
