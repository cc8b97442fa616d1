"""`manage.py credentials check|rotate-key`: device credentials at rest."""

import sys
from pathlib import Path

from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "Device credentials at rest: find the ones the key cannot read; rotate the encryption key."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        check = subcommands.add_parser("check", help="list credentials the configured key cannot decrypt")
        rotate = subcommands.add_parser("rotate-key", help="re-encrypt every credential with a new key, in one "
                                                           "transaction")
        rotate.add_argument("--new-key-file", required=True, metavar="FILE",
                            help="file holding the new Fernet key ('-': standard input); keys never go on the "
                                 "command line, where other users could see them")
        rotate.add_argument("--old-key-file", metavar="FILE", help="the key the credentials are encrypted with now "
                                                                   "(default: the configured one)")
        for sub in (check, rotate):
            super().add_arguments(sub)

    def handle(self, *args, **options):
        from inventory.services.credentials import CredentialKeyError, rotate_credential_key, unreadable_credentials
        from web.config import CredentialKeyMissing, configured_credential_key

        try:  # both need the configured key: the one to check with, or the one to rotate from
            configured_credential_key()
        except CredentialKeyMissing as error:
            self.fail(options, error.code, error.message)
        if options["subcommand"] == "check":
            bad = unreadable_credentials()
            if bad:
                message = (f"{len(bad)} credential(s) cannot be decrypted with ONENET_CREDENTIAL_KEY; enter their "
                           "secrets again, or rotate from the old key.")
                # One document: the names, and the error that makes the exit status 1.
                self.emit(options, {"unreadable": bad, "error": {"code": "CREDENTIAL_UNREADABLE", "message": message,
                                                                 "details": bad}}, "\n".join(bad))
                self.fail({}, "CREDENTIAL_UNREADABLE", message)
            self.emit(options, {"unreadable": bad}, "every credential can be decrypted")
            return
        try:
            new_key = self._key(options["new_key_file"], "--new-key-file")
            old_key = self._key(options["old_key_file"], "--old-key-file") if options["old_key_file"] else None
            result = rotate_credential_key(new_key, old_key)
        except CredentialKeyError as error:
            self.fail(options, error.code, error.message, error.details)
        human = (f"{result['rotated']} credential(s) re-encrypted with key {result['new_key_id']}; "
                 f"now {result['next_step']}")
        self.emit(options, result, human)

    def _key(self, path: str, option: str) -> bytes:
        from django.core.exceptions import ImproperlyConfigured

        from inventory.services.credentials import CredentialKeyError
        from web.config import fernet_key

        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text()
            return fernet_key(option, text.strip())
        except OSError as error:
            raise CredentialKeyError("CREDENTIAL_KEY_INVALID", f"cannot read {path}: {error.strerror}.") from None
        except ImproperlyConfigured as error:
            raise CredentialKeyError("CREDENTIAL_KEY_INVALID", str(error)) from None
