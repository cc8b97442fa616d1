"""A missing or malformed setting stops start-up with the variable's name and what it expects."""

import os
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
]


@pytest.mark.parametrize("env, message", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_setting_stops_start_up_and_says_what_it_expects(env, message, tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "ONENET_VAR_DIR": str(tmp_path), **env}, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-800:]


def test_the_embedded_var_dir_and_its_files_are_private_from_the_start(tmp_path):
    var_dir = tmp_path / "var"
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ONENET_CREDENTIAL_KEY",
                                                             "ONENET_SECRET_KEY")}
    # A permissive umask would make every new file world-readable if it were left to decide.
    result = subprocess.run(["sh", "-c", f"umask 000 && {sys.executable} manage.py migrate -v0"], cwd=ROOT,
                            capture_output=True, text=True, env={**clean, "ONENET_VAR_DIR": str(var_dir)}, timeout=120)
    assert result.returncode == 0, result.stderr[-800:]
    assert var_dir.stat().st_mode & 0o777 == 0o700
    for name in ("onenet.sqlite3", "secret_key", "credential_key"):
        assert (var_dir / name).stat().st_mode & 0o077 == 0, name


def test_a_shared_directory_is_refused_as_the_var_dir(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "ONENET_VAR_DIR": str(shared)}, timeout=60)
    assert result.returncode != 0 and "is a shared directory" in result.stderr
