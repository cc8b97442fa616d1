"""`manage.py init`: make on disk what the embedded default needs, privately, and only what is missing.

The settings only compute paths and read files that exist; this command creates them: var/ (0700, a shared
sticky directory is refused), the secret key and the credential key (0600, created with O_EXCL so no other user
can read them even for a moment and two runs at once keep one value), the SQLite file (0600, before SQLite would
create it with the umask's mode), STATIC_ROOT and the filesystem broker's folders. A key that comes from the
environment (production always) is never written; a file or folder already there is kept, or closed to other
users when an older version left it open. Running it again changes nothing. `./onenet setup` runs it.
"""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

from web.commands import OneNetCommand
from web.config import private_dir, private_file

KEYS = (
    # file under var/, environment variable that replaces it, how a new one is made
    ("secret_key", "ONENET_SECRET_KEY", lambda: secrets.token_urlsafe(64)),
    ("credential_key", "ONENET_CREDENTIAL_KEY", lambda: Fernet.generate_key().decode()),
)
BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


class Command(OneNetCommand):
    help = ("Create what the embedded default needs: var/ (0700), its secret and credential keys and its SQLite "
            "file (0600), STATIC_ROOT and the filesystem broker's folders. Idempotent.")
    # It makes what everything else needs; nothing has to pass first.
    requires_system_checks = []

    def handle(self, *args, **options):
        var_dir = Path(settings.VAR_DIR)
        self.items = []
        self._made(var_dir, "var_dir", private_dir(var_dir, "ONENET_VAR_DIR"))
        for name, variable, make in KEYS:
            if settings.PRODUCTION or variable in os.environ:
                self._skipped(name, f"{variable} is set in the environment"
                                    + (" (production reads its keys only from there)" if settings.PRODUCTION else ""))
            else:
                self._made(var_dir / name, name, private_file(var_dir / name, make))
        self._database()
        static_root = Path(settings.STATIC_ROOT)
        self._made(static_root, "static_root", self._folder(static_root, 0o755))
        self._broker(var_dir)
        created = [i["path"] for i in self.items if i["state"] in ("created", "closed")]
        result = {"var_dir": str(var_dir), "deploy": settings.DEPLOY, "changed": created, "items": self.items}
        verbs = {"created": "created", "closed": "closed to other users:"}
        lines = [f"{verbs[i['state']]} {i['path']} ({i['mode']})" for i in self.items if i["state"] in verbs]
        self.emit(options, result, "\n".join(lines) or f"nothing to do: {var_dir} has all the embedded default needs")

    def _database(self):
        database = settings.DATABASES["default"]
        name = str(database.get("NAME") or "")
        if not database["ENGINE"].endswith("sqlite3"):
            self._skipped("database", "the database is not SQLite (DATABASE_URL)")
        elif name == ":memory:" or name.startswith("file:"):
            self._skipped("database", "the SQLite database is in memory")
        else:
            path = Path(name)
            if not path.parent.is_dir():
                path.parent.mkdir(mode=0o700, parents=True)
            self._made(path, "database", private_file(path))

    def _broker(self, var_dir: Path):
        if not settings.CELERY_BROKER_URL.startswith("filesystem"):
            self._skipped("broker_folders", "the celery broker is not the filesystem transport (CELERY_BROKER_URL)")
            return
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders = sorted({Path(options[key]) for key in BROKER_FOLDERS if options.get(key)})
        parents = sorted({f.parent for f in folders if f.parent != var_dir and var_dir in f.parents})
        for folder in [*parents, *folders]:
            self._made(folder, f"broker_folder:{folder.name}", private_dir(folder, "CELERY_BROKER_TRANSPORT_OPTIONS"))

    @staticmethod
    def _folder(path: Path, mode: int) -> str:
        try:
            path.mkdir(mode=mode, parents=True)
        except FileExistsError:
            return "present"
        path.chmod(mode)  # exactly this mode, whatever the umask
        return "created"

    def _made(self, path: Path, what: str, state: str):
        self.items.append({"what": what, "path": str(path), "state": state,
                           "mode": f"{path.stat().st_mode & 0o777:04o}"})

    def _skipped(self, what: str, reason: str):
        self.items.append({"what": what, "path": None, "state": "not_needed", "reason": reason, "mode": None})
