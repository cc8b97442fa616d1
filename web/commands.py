"""Shared behaviour of OneNet's management commands: `--json` prints one JSON document on stdout."""

import json

from django.core.management.base import BaseCommand, CommandError


class OneNetCommand(BaseCommand):
    """A command whose result is a dict: printed as JSON with --json, else as readable lines."""

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    def emit(self, options, result: dict, human: str):
        if options.get("json"):
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        else:
            self.stdout.write(human)

    def fail(self, options, code: str, message: str, details: list[str] | None = None):
        """An operator-facing error: a stable code and what to do; JSON on stdout too with --json."""
        if options.get("json"):
            self.stdout.write(json.dumps({"error": {"code": code, "message": message, "details": details or []}},
                                         ensure_ascii=False))
        raise CommandError(f"{code}: {message}" + ("".join(f"\n  {d}" for d in details or [])))
