"""Settings from the environment, checked at start-up.

Every value OneNet reads from the environment goes through one of these readers, so a bad
value stops start-up with the variable's name and what it expects, instead of failing later.
"""

import base64
import binascii
import os
import stat
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from web.errors import OneNetError

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; expected one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number; expected an integer ≥ {minimum}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small; expected an integer ≥ {minimum}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not supported; expected one of: {', '.join(choices)}.")
    return value


def env_time_zone(name: str, default: str) -> str:
    """An IANA time zone name (Asia/Shanghai): every page, diff, export and chart shows times in it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not a time zone; expected an IANA name such as "
                                   "Asia/Shanghai.") from None
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# SQLite with writers in many threads and processes (pushes, polls, the worker and the console): WAL so readers
# never wait, and every transaction takes the write lock when it begins (IMMEDIATE), so a writer waits up to
# `timeout` for its turn; a deferred transaction that read first is refused at once ("database is locked").
SQLITE_OPTIONS = {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}


def database_from_env(default_sqlite_path: str) -> dict:
    """DATABASE_URL (postgres://user@host:port/name or sqlite:///path) or the embedded SQLite file."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": default_sqlite_path, "OPTIONS": SQLITE_OPTIONS}
    scheme = urlparse(url).scheme
    if scheme not in ("postgres", "postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"DATABASE_URL has scheme {scheme!r}; expected postgres://USER@HOST:PORT/NAME or sqlite:///PATH.")
    try:
        config = dj_database_url.parse(url, conn_max_age=60)
    except Exception as error:  # dj_database_url raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed ({error}); "
                                   "expected postgres://USER@HOST:PORT/NAME.") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database; expected postgres://USER@HOST:PORT/NAME.")
    if scheme == "sqlite":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    return config


def refuse_shared_dir(path: Path, name: str) -> Path:
    """`path` unless it is a shared directory (sticky bit and open to others, like /tmp): var/ holds the database
    and the keys, so it must be OneNet's own. Only reads: settings call this at start-up and create nothing."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path  # `manage.py init` creates it
    if mode & 0o077 and mode & stat.S_ISVTX:
        raise ImproperlyConfigured(f"{name}={path} is a shared directory; expected a directory of OneNet's own "
                                   "(it holds the database and keys).")
    return path


def private_dir(path: Path, name: str) -> str:
    """Make `path` a directory only OneNet's user can enter (0700); returns "created", "closed" or "present".

    Created that way (never readable by others, not even for a moment, whatever the umask); one left open by an
    older version is closed. A shared directory (sticky bit, like /tmp) is refused rather than chmod'ed."""
    refuse_shared_dir(path, name)
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    else:
        path.chmod(0o700)  # mkdir's mode is masked by the umask; 0700 is never wider than asked
        return "created"
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
        return "closed"
    return "present"


def private_file(path: Path, make: Callable[[], str] = str) -> str:
    """Make `path` a file only OneNet's user can read (0600), created with make()'s text when missing (O_EXCL: no
    window where another user could read it, and two processes at once keep one value); one an older version left
    readable is closed. Returns "created", "closed" or "present"."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
            return "closed"
        return "present"
    with os.fdopen(fd, "w") as stream:
        stream.write(make())
    return "created"


def fernet_key(name: str, raw: str) -> bytes:
    """`raw` checked as a Fernet key (32 url-safe base64-encoded bytes)."""
    try:
        decoded = base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32:
        raise ImproperlyConfigured(
            f"{name} is not a Fernet key; expected 32 url-safe base64-encoded bytes, e.g. the output of "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.")
    return raw.strip().encode()


class CredentialKeyMissing(OneNetError, ImproperlyConfigured):
    """No key to encrypt or decrypt device credentials: the embedded default's var/credential_key is made by
    `manage.py init`. Not a ValueError, so no caller mistakes it for one credential being unreadable."""

    def __init__(self, key_file: Path | None = None):
        where = f"{key_file} does not exist yet" if key_file else "no credential key is configured"
        super().__init__("CREDENTIAL_KEY_MISSING", f"{where}, so device credentials can be neither encrypted nor "
                         "decrypted; run `./onenet setup` or `manage.py init` (production: set ONENET_CREDENTIAL_KEY).")


def credential_key_from_env(name: str, production: bool, embedded_file: Path) -> bytes | None:
    """The key that encrypts device credentials at rest, independent of the Django secret key (rotating that
    must not break every credential). Production sets it; the embedded default reads the random one `manage.py
    init` keeps under var/, and is None until init has run (encrypting or decrypting then raises
    CredentialKeyMissing)."""
    raw = os.environ.get(name)
    if raw is None:
        if production:
            raise ImproperlyConfigured(f"{name} is not set; production needs its own Fernet key for the device "
                                       "credentials (keep it apart from the database backups).")
        try:
            raw = embedded_file.read_text()
        except FileNotFoundError:
            return None
        name = str(embedded_file)
    return fernet_key(name, raw)


def credential_key_missing() -> CredentialKeyMissing:
    """The error for a process with no credential key, naming the file `manage.py init` makes."""
    from django.conf import settings

    return CredentialKeyMissing(None if settings.PRODUCTION else Path(settings.VAR_DIR) / "credential_key")


def configured_credential_key() -> bytes:
    """The configured credential key, or CredentialKeyMissing saying how to make one."""
    from django.conf import settings

    if settings.CREDENTIAL_KEY is None:
        raise credential_key_missing()
    return settings.CREDENTIAL_KEY
