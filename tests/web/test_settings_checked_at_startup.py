"""A missing or malformed setting stops start-up with the variable's name and what it expects."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    ({"ONENET_DEBUG": "maybe"}, "ONENET_DEBUG='maybe' is not a boolean"),
    ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL has scheme 'mysql'"),
    ({"DATABASE_URL": "postgres://localhost:5432"}, "DATABASE_URL names no database"),
    ({"ONENET_CREDENTIAL_KEY": "too-short"}, "ONENET_CREDENTIAL_KEY is not a Fernet key"),
    ({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE='fr' is not supported"),
    ({"ONENET_LAB_SNMP_PORT": "snmp"}, "ONENET_LAB_SNMP_PORT='snmp' is not a whole number"),
    ({"ONENET_DEPLOY": "production"}, "ONENET_SECRET_KEY is not set"),
]


@pytest.mark.parametrize("env, message", CASES, ids=[next(iter(c[0])) for c in CASES])
def test_a_bad_setting_stops_start_up_and_says_what_it_expects(env, message, tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "ONENET_VAR_DIR": str(tmp_path), **env}, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-800:]
