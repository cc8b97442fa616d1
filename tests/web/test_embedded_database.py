"""The embedded SQLite database under many writers: the change pipeline pushes from 16 threads at once, each
reading then writing in one transaction (the task, the audit, the backup version). SQLite refuses at once, with
"database is locked", a transaction that read and then wants to write while another holds the write lock; the
settings must make writers queue instead, for the embedded file and for a sqlite:/// DATABASE_URL alike."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

WRITERS = """
import json, threading
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS counted (n integer)")
errors = []

def writer():
    try:
        for _ in range(25):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM counted")  # read first, as a save() after a get() does
                cursor.execute("INSERT INTO counted VALUES (1)")
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()

threads = [threading.Thread(target=writer) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM counted")
    rows = cursor.fetchone()[0]
print(json.dumps({"rows": rows, "errors": errors[:3]}))
"""


@pytest.mark.parametrize("database_url", ["", "sqlite:///{tmp}/url.sqlite3"], ids=["embedded", "sqlite-url"])
def test_many_threads_writing_to_sqlite_wait_their_turn_instead_of_failing(tmp_path, database_url):
    var = tmp_path / "var"
    var.mkdir(mode=0o700)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "web.settings", "ONENET_VAR_DIR": str(var),
           "DATABASE_URL": database_url.format(tmp=tmp_path)}
    result = subprocess.run([sys.executable, "-c", WRITERS], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"rows": 16 * 25, "errors": []}
