"""Shared behaviour of OneNet's management commands: `--json` prints one JSON document on stdout.

Every command prints exactly one JSON document with `--json`: its result, or `{"error": {"code", "message",
"details"}}` when it fails, however it fails (a refusal, bad arguments, an exception). A command that runs on and
reports as it goes declares `streams_ndjson = True` and then prints one document per line (NDJSON), each flushed
at once. tests/web/test_json_contract.py holds every command to this.

Device strings reach the output, and a device can send escape sequences: human text shows every control
character visibly (\\x1b), and JSON escapes them all, so no command lets a device drive the terminal.
"""

import argparse
import json
import re
from functools import partial
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, SystemCheckError

from web.errors import OneNetError
from web.tables import escape_controls

# json.dumps(ensure_ascii=False) escapes C0 (ESC included) but not DEL, C1 (0x9b is CSI on some terminals) or
# unpaired surrogates (which cannot even be encoded for the terminal). They only occur inside JSON strings.
JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\ud800-\udfff]")
CODE = re.compile(r"[A-Z][A-Z0-9_]{2,}")
MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024  # far beyond any device's config
# The codes error_document gives what carries none of its own: a traceback follows on stderr.
UNEXPECTED = {"UNEXPECTED_ERROR", "DATABASE_ERROR"}


def json_text(document) -> str:
    text = json.dumps(document, ensure_ascii=False, default=str)
    return JSON_UNESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def terminal_text(text: str) -> str:
    return escape_controls(text, keep="\n")


def error_document(error: BaseException) -> dict:
    """`{"code", "message", "details"}` for an exception a command did not turn into an operator error itself.

    A OneNetError carries its code, message and details; anything else is reported under a generic code, its
    traceback following on stderr."""
    from django.db import DatabaseError

    text, details, code, message = str(error), [], None, None
    if isinstance(error, OneNetError):
        code, message, details = error.code, error.message, error.details
    elif isinstance(error, SystemCheckError):
        code, message = "SYSTEM_CHECK_FAILED", text.strip()
    elif isinstance(error, CommandError):
        code, message = "COMMAND_FAILED", text
    elif isinstance(error, ImproperlyConfigured):
        code, message = "SETTING_INVALID", text
    elif isinstance(error, DatabaseError):
        code, message = "DATABASE_ERROR", (f"{type(error).__name__}: {text}; check that the database is reachable "
                                           "and migrated (`manage.py migrate`).")
    else:
        code, message = "UNEXPECTED_ERROR", (f"{type(error).__name__}: {text}; this is a bug or an unexpected "
                                             "state, the traceback is on stderr.")
    if isinstance(details, dict):
        details = [f"{key}: {value}" for key, value in details.items()]
    return {"code": code, "message": message,
            "details": [str(d) for d in details] if isinstance(details, list | tuple) else []}


def _parsers(parser: argparse.ArgumentParser):
    """The parser and every sub-command's parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


class OneNetCommand(BaseCommand):
    """A command whose result is a dict: printed as JSON with --json, else as readable lines."""

    # True: with --json, this command may print a stream of documents, one per line (NDJSON), flushed as they come
    # (e.g. `poll --every`: one per cycle). Every other command prints exactly one document.
    streams_ndjson = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._json_documents = 0
        self._json_requested = False

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    # ------------------------------------------------------------------------------------------------ output

    def emit(self, options, result: dict, human: str):
        if options.get("json"):
            self.write_json(result)
        else:
            self.stdout.write(terminal_text(human))
            self.stdout.flush()

    def write_json(self, document: dict):
        """One document, on one line, flushed: a reader of a stream (or of a server's first line) gets it now."""
        self.stdout.write(json_text(document))
        self.stdout.flush()
        self._json_documents += 1

    def fail(self, options, code: str, message: str, details: list[str] | None = None):
        """An operator-facing error: a stable code and what to do; JSON on stdout too with --json."""
        if options.get("json"):
            self.write_json({"error": {"code": code, "message": message, "details": details or []}})
        error = CommandError(terminal_text(f"{code}: {message}" + "".join(f"\n  {d}" for d in details or [])))
        error.reported_as_json = bool(options.get("json"))
        raise error

    def read_config_file(self, options, path: Path) -> str:
        """A device config named on the command line, bounded (no device config comes near the limit)."""
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_CONFIG_FILE_BYTES + 1)
        except OSError as error:
            self.fail(options, "CONFIG_FILE_UNREADABLE", f"cannot read {path}: {error.strerror or error}.")
        if len(data) > MAX_CONFIG_FILE_BYTES:
            self.fail(options, "CONFIG_FILE_TOO_LARGE", f"{path} is larger than {MAX_CONFIG_FILE_BYTES} bytes; no "
                                                        "device config is that big.")
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------------------------------------ failures

    def execute(self, *args, **options):
        """Whatever goes wrong, --json still ends with one error document (after a stream's last line)."""
        try:
            return super().execute(*args, **options)
        except Exception as error:
            document = error_document(error)
            if (options.get("json") and not getattr(error, "reported_as_json", False)
                    and (self._json_documents == 0 or self.streams_ndjson)):
                self.write_json({"error": document})
            if (getattr(self, "_called_from_command_line", False) and not isinstance(error, CommandError)
                    and document["code"] not in UNEXPECTED):
                # An operator error with its code: "CODE: what to do" on stderr and exit status 1, no traceback.
                raise CommandError(terminal_text(f"{document['code']}: {document['message']}")) from error
            raise

    def run_from_argv(self, argv):
        self._json_requested = "--json" in argv[2:]
        return super().run_from_argv(argv)

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Bad arguments are a failure too: with --json on the command line, their error is a JSON document."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for each in _parsers(parser):
            each.error = partial(self._usage_error, each, each.error, f"{prog_name} {subcommand}")
        return parser

    def _usage_error(self, parser, original, command: str, message: str):
        if self._json_requested and self._json_documents == 0:
            self.write_json({"error": {"code": "USAGE_INVALID", "message": f"{message}; see `{command} --help`.",
                                       "details": [parser.format_usage().strip()]}})
        original(message)
