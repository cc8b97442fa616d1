"""Every error code the project raises is in the one catalogue (web/errors.py), and the catalogue holds no code
nobody raises.

A code is found where the source writes one: a string literal that is a code ("SSH_UNREACHABLE") or starts a
message with one ("SSH_UNREACHABLE: ..."), in any module of the project but the tests and migrations.
"""

import ast
import re
from pathlib import Path

from web.errors import CATALOGUE, OneNetError

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
PREFIXED = re.compile(r"^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+): ")
# Upper-case literals that are no error codes: settings and environment names, protocol and header names.
NOT_CODES = {
    "APP_DIRS", "HTTP_ACCEPT_LANGUAGE", "HTTP_X_FORWARDED_PROTO", "REMOTE_ADDR",  # Django and WSGI
    "DISCOVER_COLUMNS", "POLL_COLUMNS", "SYS_UPTIME",  # the SNMP client's exported names
    "NT_TRANSACT", "NT_TRANSACT_SECONDARY", "SESSION_SETUP_ANDX", "TRANSACTION2_SECONDARY", "TRANSACTION_SECONDARY",
    "TREE_CONNECT_ANDX", "WRITE_ANDX", "STATUS_NOT_IMPLEMENTED",  # SMB command and status names
    "BENCH_AGENT",  # a benchmark's own marker
}
NOT_CODE_PREFIXES = ("ONENET_", "DATABASE_URL", "CELERY_", "DJANGO_", "LANGUAGE_CODE", "AXES_")


def raised_codes() -> dict[str, str]:
    """code → first place it is written."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "node_modules", "var", "tests") or "migrations" in relative.parts \
                or relative == Path("web/errors.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            texts = []
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts = [node.value]
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                texts = [str(node.values[0].value)]
            for text in texts:
                match = PREFIXED.match(text)
                code = match.group(1) if match else text if CODE.match(text) else None
                if code and code not in NOT_CODES and not code.startswith(NOT_CODE_PREFIXES):
                    found.setdefault(code, f"{relative}:{node.lineno}")
    return found


def test_every_raised_code_is_in_the_catalogue():
    missing = {code: where for code, where in raised_codes().items() if code not in CATALOGUE}
    assert missing == {}


def test_the_catalogue_holds_no_code_nobody_raises():
    assert sorted(set(CATALOGUE) - set(raised_codes())) == []


def test_every_entry_says_what_to_do():
    short = [code for code, action in CATALOGUE.items() if len(action.split()) < 5 or not action.endswith(".")]
    assert short == []


def test_an_error_shows_its_code_message_and_the_catalogue_s_advice():
    error = OneNetError("SSH_UNREACHABLE", "r1 did not answer SSH on port 22.")
    assert str(error) == "SSH_UNREACHABLE: r1 did not answer SSH on port 22."
    assert error.as_dict() == {"code": "SSH_UNREACHABLE", "message": "r1 did not answer SSH on port 22.",
                               "action": CATALOGUE["SSH_UNREACHABLE"]}
