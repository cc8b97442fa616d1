"""Shared behaviour of OneNet's management commands: `--json` prints one JSON document on stdout.

Device strings reach the output, and a device can send escape sequences: human text shows every control
character visibly (\\x1b), and JSON escapes them all, so no command lets a device drive the terminal.
"""

import json
import re

from django.core.management.base import BaseCommand, CommandError

from web.tables import escape_controls

# json.dumps(ensure_ascii=False) escapes C0 (ESC included) but not DEL, C1 (0x9b is CSI on some terminals) or
# unpaired surrogates (which cannot even be encoded for the terminal). They only occur inside JSON strings.
JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\ud800-\udfff]")


def json_text(document) -> str:
    text = json.dumps(document, ensure_ascii=False, default=str)
    return JSON_UNESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def terminal_text(text: str) -> str:
    return escape_controls(text, keep="\n")


class OneNetCommand(BaseCommand):
    """A command whose result is a dict: printed as JSON with --json, else as readable lines."""

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    def emit(self, options, result: dict, human: str):
        if options.get("json"):
            self.stdout.write(json_text(result))
        else:
            self.stdout.write(terminal_text(human))

    def fail(self, options, code: str, message: str, details: list[str] | None = None):
        """An operator-facing error: a stable code and what to do; JSON on stdout too with --json."""
        if options.get("json"):
            self.stdout.write(json_text({"error": {"code": code, "message": message, "details": details or []}}))
        raise CommandError(terminal_text(f"{code}: {message}" + "".join(f"\n  {d}" for d in details or [])))
