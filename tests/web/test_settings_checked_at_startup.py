"""A missing or malformed setting stops start-up with the variable's name and what it expects; importing the
settings writes nothing, and `manage.py init` makes the embedded default's var/ privately, once."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "uqgGfjR4lZUqzUBcT5B4AwbnSAUFz4Y7h1o0o1AEBGg="

CASES = [
    ({"ONENET_DEBUG": "maybe"}, "ONENET_DEBUG='maybe' is not a boolean"),
    ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL has scheme 'mysql'"),
    ({"DATABASE_URL": "postgres://localhost:5432"}, "DATABASE_URL names no database"),
    ({"ONENET_CREDENTIAL_KEY": "too-short"}, "ONENET_CREDENTIAL_KEY is not a Fernet key"),
    ({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE='fr' is not supported"),
    ({"ONENET_LAB_SNMP_PORT": "snmp"}, "ONENET_LAB_SNMP_PORT='snmp' is not a whole number"),
    ({"ONENET_DEPLOY": "production"}, "ONENET_SECRET_KEY is not set"),
    ({"ONENET_DEPLOY": "production", "ONENET_SECRET_KEY": "s" * 60}, "ONENET_CREDENTIAL_KEY is not set"),
    ({"ONENET_DEPLOY": "production", "ONENET_SECRET_KEY": "s" * 60, "ONENET_CREDENTIAL_KEY": FERNET_KEY},
     "ONENET_METRICS_TOKEN is not set"),
    ({"ONENET_SESSION_IDLE_MINUTES": "0"}, "ONENET_SESSION_IDLE_MINUTES=0 is too small"),
    ({"ONENET_SSH_TRUST_FIRST_USE": "sometimes"}, "ONENET_SSH_TRUST_FIRST_USE='sometimes' is not a boolean"),
    ({"ONENET_TIME_ZONE": "Beijing"}, "ONENET_TIME_ZONE='Beijing' is not a time zone"),
]


@pytest.mark.parametrize("env, message", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_setting_stops_start_up_and_says_what_it_expects(env, message, tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "ONENET_VAR_DIR": str(tmp_path), **env}, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-800:]


# The embedded default: no server, no keys or broker from the environment.
EMBEDDED = ("DATABASE_URL", "CELERY_BROKER_URL", "ONENET_CREDENTIAL_KEY", "ONENET_SECRET_KEY", "ONENET_DEPLOY")


def embedded_env(var_dir: Path, **extra) -> dict:
    return {**{k: v for k, v in os.environ.items() if k not in EMBEDDED}, "ONENET_VAR_DIR": str(var_dir), **extra}


def manage(var_dir: Path, *args: str, umask: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    command = " ".join(shlex.quote(a) for a in [sys.executable, "manage.py", *args])
    return subprocess.run(["sh", "-c", f"{'umask ' + umask + ' && ' if umask else ''}exec {command}"], cwd=ROOT,
                          capture_output=True, text=True, env=env or embedded_env(var_dir), timeout=120)


def tree(path: Path) -> dict[str, tuple[int, int, float]]:
    """Every file and folder under `path`: mode, size, modification time."""
    return {str(p.relative_to(path)): (p.stat().st_mode, p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(path.rglob("*"))}


def test_importing_the_settings_writes_nothing(tmp_path):
    """Settings compute paths and read files that exist: no var/, key, database or broker folder appears."""
    missing, empty = tmp_path / "missing" / "var", tmp_path / "empty"
    empty.mkdir(mode=0o755)
    for var_dir in (missing, empty):
        checked = manage(var_dir, "check")
        assert checked.returncode == 0, checked.stderr[-800:]
        setup = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import "
                                "settings; settings.DATABASES; settings.CREDENTIAL_KEY"], cwd=ROOT, capture_output=True,
                               text=True, env=embedded_env(var_dir, DJANGO_SETTINGS_MODULE="web.settings"), timeout=60)
        assert setup.returncode == 0, setup.stderr[-800:]
    assert not missing.parent.exists()
    assert list(empty.iterdir()) == [] and empty.stat().st_mode & 0o777 == 0o755  # not even closed: init does that


def test_before_init_credentials_say_to_run_init_and_the_secret_key_lasts_one_process(tmp_path):
    code = ("from django.conf import settings\n"
            "from inventory.models import Credential\n"
            "print(settings.CREDENTIAL_KEY, len(settings.SECRET_KEY) >= 50)\n"
            "try:\n"
            "    Credential(name='x', kind='snmp').secret = 'community'\n"
            "except Exception as error:\n"
            "    print(error.code, isinstance(error, ValueError), error)\n")
    result = manage(tmp_path / "var", "shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr[-800:]
    first, second = result.stdout.splitlines()[:2]
    assert first == "None True"
    assert second.startswith("CREDENTIAL_KEY_MISSING False") and "manage.py init" in second
    assert "secret_key does not exist" in result.stderr  # said, not silent: logins end with the process
    assert not (tmp_path / "var").exists()


def test_init_makes_var_and_its_files_private_even_under_umask_000_and_twice_changes_nothing(tmp_path):
    var_dir = tmp_path / "var"
    first = manage(var_dir, "init", "--json", umask="000")
    assert first.returncode == 0, first.stderr[-800:]
    made = json.loads(first.stdout)
    assert var_dir.stat().st_mode & 0o777 == 0o700
    for name in ("secret_key", "credential_key", "onenet.sqlite3"):
        assert (var_dir / name).stat().st_mode & 0o777 == 0o600, name
    for folder in ("queue", "processed", "control"):
        assert (var_dir / "celery" / folder).stat().st_mode & 0o777 == 0o700, folder
    assert (var_dir / "static").is_dir()
    assert {i["what"]: i["state"] for i in made["items"]}.items() >= {
        "var_dir": "created", "secret_key": "created", "credential_key": "created", "database": "created",
        "static_root": "created"}.items()
    assert len((var_dir / "credential_key").read_text().strip()) == 44  # a Fernet key
    before = tree(var_dir)
    again = manage(var_dir, "init", "--json", umask="000")
    assert again.returncode == 0, again.stderr[-800:]
    assert json.loads(again.stdout)["changed"] == []
    assert {i["state"] for i in json.loads(again.stdout)["items"]} <= {"present", "not_needed"}
    assert tree(var_dir) == before


def test_init_closes_what_an_older_version_left_open(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    var_dir.chmod(0o755)
    (var_dir / "secret_key").write_text("k" * 64)
    (var_dir / "secret_key").chmod(0o644)
    result = manage(var_dir, "init", "--json")
    assert result.returncode == 0, result.stderr[-800:]
    states = {i["what"]: i["state"] for i in json.loads(result.stdout)["items"]}
    assert states["var_dir"] == "closed" and states["secret_key"] == "closed"
    assert var_dir.stat().st_mode & 0o777 == 0o700 and (var_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (var_dir / "secret_key").read_text() == "k" * 64  # kept: sessions survive


def test_production_init_writes_no_key_and_reads_none_from_var(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o700)
    (var_dir / "credential_key").write_text("x" * 44)  # not even a key: production must not look at it
    env = embedded_env(var_dir, ONENET_DEPLOY="production", ONENET_SECRET_KEY="s" * 60,
                       ONENET_CREDENTIAL_KEY=FERNET_KEY, ONENET_METRICS_TOKEN="t" * 40)
    result = manage(var_dir, "init", "--json", env=env)
    assert result.returncode == 0, result.stderr[-800:]
    states = {i["what"]: i["state"] for i in json.loads(result.stdout)["items"]}
    assert states["secret_key"] == states["credential_key"] == "not_needed"
    assert not (var_dir / "secret_key").exists() and (var_dir / "credential_key").read_text() == "x" * 44


def test_the_embedded_var_dir_and_its_files_are_private_from_the_start(tmp_path):
    var_dir = tmp_path / "var"
    # A permissive umask would make every new file world-readable if it were left to decide.
    for step in (("init",), ("migrate", "-v0")):
        result = manage(var_dir, *step, umask="000")
        assert result.returncode == 0, result.stderr[-800:]
    assert var_dir.stat().st_mode & 0o777 == 0o700
    for name in ("onenet.sqlite3", "secret_key", "credential_key"):
        assert (var_dir / name).stat().st_mode & 0o077 == 0, name
    # SQLite's journal files (-wal, -shm) take the database file's mode.
    assert [p.name for p in var_dir.iterdir() if p.is_file() and p.stat().st_mode & 0o077] == []


def test_a_shared_directory_is_refused_as_the_var_dir(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "ONENET_VAR_DIR": str(shared)}, timeout=60)
    assert result.returncode != 0 and "is a shared directory" in result.stderr
