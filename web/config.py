"""Settings from the environment, checked at start-up.

Every value OneNet reads from the environment goes through one of these readers, so a bad
value stops start-up with the variable's name and what it expects, instead of failing later.
"""

import base64
import binascii
import os
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


def fernet_key_from_env(name: str, fallback_secret: str) -> bytes:
    """The key that encrypts device credentials at rest: a Fernet key (32 url-safe base64 bytes).

    Without the variable, a key is derived from the Django secret key, fine for the embedded demo;
    production sets its own so that a database dump alone does not reveal the secrets.
    """
    raw = os.environ.get(name)
    if raw is None:
        import hashlib

        return base64.urlsafe_b64encode(hashlib.sha256(("onenet-credentials:" + fallback_secret).encode()).digest())
    try:
        decoded = base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32:
        raise ImproperlyConfigured(
            f"{name} is not a Fernet key; expected 32 url-safe base64-encoded bytes, e.g. the output of "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.")
    return raw.encode()
