"""OneNet settings. Everything that differs between machines comes from the environment (web/config.py).

Embedded defaults (no variables set): SQLite under var/, a filesystem celery broker under var/,
Chinese console. Production sets DATABASE_URL, CELERY_BROKER_URL, ONENET_SECRET_KEY,
ONENET_CREDENTIAL_KEY, ONENET_ALLOWED_HOSTS and ONENET_DEPLOY=production.

Importing the settings writes nothing: they compute paths and read the files that exist. What the embedded
default needs on disk (var/ 0700, its key files and SQLite file 0600, STATIC_ROOT, the broker's folders) is
made by `manage.py init` (web/management/commands/init.py), which `./onenet setup` runs.
"""

import logging
import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from web.config import (
    credential_key_from_env,
    database_from_env,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    refuse_shared_dir,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = refuse_shared_dir(Path(env_str("ONENET_VAR_DIR", str(BASE_DIR / "var"))), "ONENET_VAR_DIR")

DEPLOY = env_choice("ONENET_DEPLOY", "embedded", ("embedded", "production"))
PRODUCTION = DEPLOY == "production"


def _secret_key() -> str:
    key = env_str("ONENET_SECRET_KEY", "")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("ONENET_SECRET_KEY is too short; expected at least 50 random characters.")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("ONENET_SECRET_KEY is not set; production needs at least 50 random characters.")
    # Embedded mode keeps a random key under var/ (made by `manage.py init`) so sessions survive a restart.
    try:
        return (VAR_DIR / "secret_key").read_text().strip()
    except FileNotFoundError:
        # Until init has run: a key of this process's own, so nothing is written here; sessions and signed links
        # then end with the process.
        logging.getLogger("onenet.settings").warning(
            "%s does not exist: using a random secret key for this process only (logins end when it stops); run "
            "`./onenet setup` or `manage.py init` to keep one.", VAR_DIR / "secret_key")
        return secrets.token_urlsafe(64)


SECRET_KEY = _secret_key()
DEBUG = env_bool("ONENET_DEBUG", False)
ALLOWED_HOSTS = env_list("ONENET_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("ONENET_CSRF_TRUSTED_ORIGINS", "")
# None in embedded mode until `manage.py init` made var/credential_key: storing or reading a device credential then
# fails with CREDENTIAL_KEY_MISSING (web.config.configured_credential_key).
CREDENTIAL_KEY = credential_key_from_env("ONENET_CREDENTIAL_KEY", PRODUCTION, VAR_DIR / "credential_key")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "web",
    "inventory",
    "collectors",
    "threat",
    "policies",
    "egress",
    "changes",
    "lab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "web.middleware.ConfiguredLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "web" / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "django.template.context_processors.i18n",
        "web.navigation.navigation",
    ]},
}]

# The embedded SQLite file is created 0600 by `manage.py init`, before SQLite would create it with the umask's mode.
DATABASES = {"default": database_from_env(str(VAR_DIR / "onenet.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out user or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Logins: after this many failures a user name, and separately a client address, is locked out for a while
# (every attempt during the lockout restarts it). Admin and console logins both go through django-axes.
AXES_FAILURE_LIMIT = env_int("ONENET_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ONENET_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # failures and lockouts are logged once, as security events (web/security.py)
# A session ends after this long without a request.
SESSION_COOKIE_AGE = env_int("ONENET_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "zh-hans", ("zh-hans", "en"))
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_time_zone("ONENET_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # made by `manage.py init` (and collectstatic)
# Chart and UI libraries come from npm at set-up time (./onenet setup), never from a CDN.
STATICFILES_DIRS = [("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist")] \
    if (BASE_DIR / "node_modules" / "echarts" / "dist").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Celery: a broker that needs no server by default (kombu's filesystem transport under var/; `manage.py init`
# makes its folders). The host is named (and ignored) so kombu does not warn that none was supplied.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"data_folder_in": str(VAR_DIR / "celery" / "queue"), "data_folder_out": str(VAR_DIR / "celery" / "queue"),
     "processed_folder": str(VAR_DIR / "celery" / "processed"), "store_processed": False,
     "control_folder": str(VAR_DIR / "celery" / "control")}
    if CELERY_BROKER_URL.startswith("filesystem") else {})
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Fixed entries beat installs beside the per-county ones of `manage.py schedules`: the change pipeline's sweep
# rolls back what nobody confirmed in time and settles pushes whose worker died.
CELERY_BEAT_SCHEDULE = {"changes: sweep": {"task": "changes.sweep", "schedule": 30.0, "options": {"queue": "celery"}}}

# Collectors: the poller's own bounds on every SNMP call, and how wide a cycle runs.
# Measured on the city lab: 100 requests in flight per process, each answer taking pysnmp ~26 ms of CPU to
# decode, queue answers past a 1.5 s timeout and collapse into false timeouts; 32 in flight and 3 s do not.
ONENET_SNMP_TIMEOUT = env_int("ONENET_SNMP_TIMEOUT_MS", 3000, minimum=100) / 1000
ONENET_SNMP_RETRIES = env_int("ONENET_SNMP_RETRIES", 1)
ONENET_SNMP_DEADLINE = env_int("ONENET_SNMP_DEADLINE_S", 20, minimum=1)
ONENET_POLL_PROCESSES = env_int("ONENET_POLL_PROCESSES", 2, minimum=1)
ONENET_POLL_CONCURRENCY = env_int("ONENET_POLL_CONCURRENCY", 32, minimum=1)
ONENET_POLL_INTERVAL_S = env_int("ONENET_POLL_INTERVAL_S", 300, minimum=10)
ONENET_BACKUP_INTERVAL_S = env_int("ONENET_BACKUP_INTERVAL_S", 6 * 3600, minimum=60)
ONENET_BACKUP_WORKERS = env_int("ONENET_BACKUP_WORKERS", 32, minimum=1)
ONENET_SSH_TIMEOUT = env_int("ONENET_SSH_TIMEOUT_S", 20, minimum=1)
# Changes: devices pushed at once per worker task; whether a second engineer must approve (four eyes); the
# default time to confirm a pushed change before it rolls back by itself.
ONENET_PUSH_WORKERS = env_int("ONENET_PUSH_WORKERS", 16, minimum=1)
ONENET_CHANGE_FOUR_EYES = env_bool("ONENET_CHANGE_FOUR_EYES", True)
ONENET_CHANGE_CONFIRM_TIMEOUT_S = env_int("ONENET_CHANGE_CONFIRM_TIMEOUT_S", 300, minimum=60)
if ONENET_CHANGE_CONFIRM_TIMEOUT_S > 7200:  # IOS's revert timer stops at 120 minutes
    raise ImproperlyConfigured(f"ONENET_CHANGE_CONFIRM_TIMEOUT_S={ONENET_CHANGE_CONFIRM_TIMEOUT_S} is too large; "
                               "expected 60 to 7200 seconds.")
ONENET_SAMPLE_RETENTION_DAYS = env_int("ONENET_SAMPLE_RETENTION_DAYS", 35, minimum=1)

ONENET_METRICS_TOKEN = env_str("ONENET_METRICS_TOKEN", "")
if PRODUCTION and not ONENET_METRICS_TOKEN:
    raise ImproperlyConfigured("ONENET_METRICS_TOKEN is not set; production serves /metrics only to a scraper that "
                               "sends Authorization: Bearer <token> (use a long random string).")
# The embedded default, with no token, answers /metrics on loopback only.
# SSH host keys: trust a device's key on first contact (then pin it), or only keys imported or accepted.
ONENET_SSH_TRUST_FIRST_USE = env_bool("ONENET_SSH_TRUST_FIRST_USE", True)
# Threat: the same kind from the same source within this window updates one alert.
ONENET_ALERT_DEDUP_WINDOW_S = env_int("ONENET_ALERT_DEDUP_WINDOW_S", 3600, minimum=60)

# The lab (simulated extranet): where its devices listen.
LAB_SNMP_PORT = env_int("ONENET_LAB_SNMP_PORT", 161, minimum=1)
LAB_SSH_PORT = env_int("ONENET_LAB_SSH_PORT", 22, minimum=1)
LAB_ADDRESS_BASE = env_str("ONENET_LAB_ADDRESS_BASE", "127.10.0.1")

# Content-Security-Policy: scripts and everything else only from the console itself (no inline script, no CDN);
# inline style attributes stay allowed for the bars' widths.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"], "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"],
    "frame-ancestors": ["'none'"]}}

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("ONENET_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("ONENET_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if DEBUG:
        raise ImproperlyConfigured("ONENET_DEBUG must be off when ONENET_DEPLOY=production.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # paramiko logs every login at INFO; its warnings still show.
    "loggers": {"paramiko": {"level": "WARNING"}},
    "root": {"handlers": ["stderr"], "level": env_choice("ONENET_LOG_LEVEL", "INFO",
                                                          ("DEBUG", "INFO", "WARNING", "ERROR"))},
}
