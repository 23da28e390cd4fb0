"""Settings for the preload service.

Every value comes from the environment (or a `.env` file beside manage.py) with a
default that works on a laptop. A bad value stops the process at start with a
message that names the variable and says what to put there.
"""

import shutil
import socket
import zoneinfo
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    try:
        value = env.int(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be a whole number between {minimum} and {maximum}."
        ) from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(
            f"{name}={value} is out of range: use a whole number between "
            f"{minimum} and {maximum}."
        )
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def _env_zone(name: str, default: str) -> str:
    value = env.str(name, default=default).strip()
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an IANA time zone name; use one such as "
            "'Asia/Shanghai' or 'Europe/Berlin'."
        ) from exc
    return value


def _default_ffmpeg(tool: str) -> str:
    """FFmpeg from PATH when installed, otherwise the static build in the wheel."""
    found = shutil.which(tool)
    if found:
        return found
    if tool == "ffmpeg":
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    return tool


DEBUG = _env_bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY", default="insecure-dev-key-change-me-in-production-0123456789"
)
if not DEBUG and SECRET_KEY.startswith("insecure-dev-key"):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "channels_app",
    "transcoding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "preload_site.urls"
WSGI_APPLICATION = "preload_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# An SQLite file unless DATABASE_URL names another database.
try:
    DATABASES = {
        "default": env.db_url(
            "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
        )
    }
except (ValueError, KeyError, ImproperlyConfigured) as exc:
    raise ImproperlyConfigured(
        "DATABASE_URL is not a database URL; use for example "
        "postgres://user@127.0.0.1:5432/dbname or sqlite:////path/to/db.sqlite3."
    ) from exc
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, beat and the worker share the file: wait for locks instead of
    # failing, and take the write lock up front so transactions never deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL;",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

# Every preload window is wall-clock time in this zone, whatever zone the
# servers run in. Django's own display zone follows it so the admin shows the
# same clock the windows are written in.
PRELOAD_TIME_ZONE = _env_zone("PRELOAD_TIME_ZONE", default="Asia/Shanghai")
TIME_ZONE = PRELOAD_TIME_ZONE

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "admin:login"

# --- Celery ---------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://."
    )
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = PRELOAD_TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes a fired entry's last-run time back at once instead of every three
# minutes, so an edit made just after a firing is never overwritten by the old
# last-run time (which would make the edited crontab look overdue).
CELERY_BEAT_SYNC_EVERY = 1
# Flower and the status pages read task events.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True

# The transcode host this process runs on listens on its own queue; the web
# side sends a channel's work to the queue of the host that owns it.
TRANSCODE_HOST = env.str("TRANSCODE_HOST", default=socket.gethostname())
TRANSCODE_QUEUE = env.str("TRANSCODE_QUEUE", default="transcode")

# --- FFmpeg and HLS -------------------------------------------------------

HLS_ROOT = Path(env.str("HLS_ROOT", default=str(BASE_DIR / "var" / "hls")))
FFMPEG_LOG_DIR = Path(
    env.str("FFMPEG_LOG_DIR", default=str(BASE_DIR / "var" / "log" / "ffmpeg"))
)
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="") or _default_ffmpeg("ffmpeg")
FFPROBE_BINARY = env.str("FFPROBE_BINARY", default="") or _default_ffmpeg("ffprobe")
HLS_SEGMENT_SECONDS = _env_int("HLS_SEGMENT_SECONDS", 1, minimum=1, maximum=2)
HLS_LIST_SIZE = _env_int("HLS_LIST_SIZE", 6, minimum=3, maximum=60)
# A source that sends nothing for this long ends FFmpeg instead of hanging it.
FFMPEG_READ_TIMEOUT_SECONDS = _env_int("FFMPEG_READ_TIMEOUT_SECONDS", 10, 2, 300)
FFMPEG_STOP_TIMEOUT_SECONDS = _env_int("FFMPEG_STOP_TIMEOUT_SECONDS", 5, 1, 60)
# FFmpeg normally outlives a worker restart (the new worker adopts it by pid
# and creation time, so viewers see no gap). The demo sets this to stop it.
STOP_FFMPEG_ON_WORKER_SHUTDOWN = _env_bool("STOP_FFMPEG_ON_WORKER_SHUTDOWN", False)
FFMPEG_PROBE_TIMEOUT_SECONDS = _env_int("FFMPEG_PROBE_TIMEOUT_SECONDS", 8, 2, 60)

# --- Health and restarts --------------------------------------------------

HEALTH_CHECK_INTERVAL_SECONDS = _env_int("HEALTH_CHECK_INTERVAL_SECONDS", 300, 5, 3600)
# A playlist not rewritten for this long means the process is stalled.
STALL_AFTER_SECONDS = _env_int("STALL_AFTER_SECONDS", 30, 3, 600)
MAX_RESTARTS = _env_int("MAX_RESTARTS", 3, 0, 20)

# --- Viewers ---------------------------------------------------------------

VIEWER_HEARTBEAT_SECONDS = _env_int("VIEWER_HEARTBEAT_SECONDS", 30, 1, 600)
VIEWER_IDLE_SECONDS = _env_int("VIEWER_IDLE_SECONDS", 60, 2, 3600)
IDLE_CLEANUP_INTERVAL_SECONDS = _env_int("IDLE_CLEANUP_INTERVAL_SECONDS", 30, 1, 3600)
ON_DEMAND_START_TIMEOUT_SECONDS = _env_int(
    "ON_DEMAND_START_TIMEOUT_SECONDS", 20, 2, 120
)

# Playlist and segment URLs carry a signed token that lives this long; the
# player swaps in a fresh one from every heartbeat, so it must outlive a beat.
HLS_TOKEN_SECONDS = _env_int("HLS_TOKEN_SECONDS", 120, 5, 3600)
if HLS_TOKEN_SECONDS <= VIEWER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"HLS_TOKEN_SECONDS={HLS_TOKEN_SECONDS} must be longer than "
        f"VIEWER_HEARTBEAT_SECONDS={VIEWER_HEARTBEAT_SECONDS}, or players lose "
        "the stream between heartbeats; use at least twice the heartbeat."
    )
# Production: an internal nginx location (e.g. /_hls/) that maps to HLS_ROOT.
# When set, Django only checks the viewer's right and nginx sends the file
# (X-Accel-Redirect); see docs/nginx-hls.md. Empty: Django sends it itself.
HLS_X_ACCEL_PREFIX = env.str("HLS_X_ACCEL_PREFIX", default="")
if HLS_X_ACCEL_PREFIX and not (
    HLS_X_ACCEL_PREFIX.startswith("/") and HLS_X_ACCEL_PREFIX.endswith("/")
):
    raise ImproperlyConfigured(
        f"HLS_X_ACCEL_PREFIX={HLS_X_ACCEL_PREFIX!r} must start and end with '/', "
        "for example /_hls/."
    )

ADMINS = [
    ("Administrator", address) for address in env.list("ADMIN_EMAILS", default=[])
]
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate challenge from the first
    # class, and without one it would answer an anonymous caller 403, not 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "channels_app.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Channel preload API",
    "DESCRIPTION": (
        "Preload windows, channel control and transcode host status, for staff "
        "users (session or `Authorization: Token <key>`).\n\n"
        "Every error answers `{status, code, message, fields}`. Request bodies "
        "are JSON objects holding only the writable fields of the request; any "
        "other key, read-only ones included, is refused with 400."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "channels_app.api.schema.add_errors_and_strict_bodies",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
