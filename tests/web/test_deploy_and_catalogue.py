"""Production settings pass Django's deployment checks; the Chinese catalogue translates every string."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ONENET_DEPLOY="production", ONENET_SECRET_KEY=secrets.token_urlsafe(64),
               ONENET_CREDENTIAL_KEY="uqgGfjR4lZUqzUBcT5B4AwbnSAUFz4Y7h1o0o1AEBGg=",
               ONENET_METRICS_TOKEN=secrets.token_urlsafe(32), ONENET_ALLOWED_HOSTS="onenet.example.gov",
               ONENET_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_message_of_the_console_has_a_chinese_translation():
    text = (ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = [e for e in text.split("\n\n") if "msgid" in e]
    untranslated = []
    for entry in entries[1:]:  # the first entry is the catalogue's header
        msgid = re.search(r'msgid\s+((?:"(?:[^"\\]|\\.)*"\s*)+)', entry, re.S).group(1)
        # a plural entry has msgstr[0] (zh-Hans has one form): each form present must be filled in
        msgstrs = re.findall(r'msgstr(?:\[\d+\])?\s+((?:"(?:[^"\\]|\\.)*"\s*)+)', entry, re.S)
        if not msgstrs or any(re.sub(r'["\s]', "", form) == "" for form in msgstrs) or "#, fuzzy" in entry:
            untranslated.append(re.sub(r'"\s*"', "", msgid)[:60])
    assert untranslated == []
