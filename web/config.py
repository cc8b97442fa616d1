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


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_env(default_sqlite_path: str) -> dict:
    """DATABASE_URL (postgres://user@host:port/name or sqlite:///path) or the embedded SQLite file."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": default_sqlite_path,
                "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}}
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
    return config


def private_dir(path: Path, name: str) -> Path:
    """A directory only OneNet's user can enter (0700): var/ holds the database, the keys and the lab's logins.

    Created that way (never readable by others, not even for a moment); one left world-readable by an older
    version is closed. A shared directory (sticky bit, like /tmp) is refused rather than chmod'ed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode
    if mode & 0o077:
        if mode & stat.S_ISVTX:
            raise ImproperlyConfigured(f"{name}={path} is a shared directory; expected a directory of OneNet's own "
                                       "(it holds the database and keys).")
        path.chmod(0o700)
    return path


def private_file(path: Path, make: Callable[[], str] = str) -> Path:
    """`path`, created 0600 with make()'s text when missing (O_EXCL: no window where another user could read
    it, and two processes starting at once keep one value); one an older version left readable is closed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    else:
        with os.fdopen(fd, "w") as stream:
            stream.write(make())
    return path


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


def credential_key_from_env(name: str, production: bool, embedded_file: Path) -> bytes:
    """The key that encrypts device credentials at rest, independent of the Django secret key (rotating that
    must not break every credential). Production sets it; the embedded default keeps a random one under var/."""
    raw = os.environ.get(name)
    if raw is None:
        if production:
            raise ImproperlyConfigured(f"{name} is not set; production needs its own Fernet key for the device "
                                       "credentials (keep it apart from the database backups).")
        from cryptography.fernet import Fernet

        raw = private_file(embedded_file, lambda: Fernet.generate_key().decode()).read_text()
    return fernet_key(name, raw)
