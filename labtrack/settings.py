"""LabTrack settings, configured from the environment.

With nothing set, LabTrack runs on its embedded default: SQLite and media files under
`var/`, and Celery over kombu's SQLAlchemy transport on a SQLite file, so a real worker
process runs analyses asynchronously with no server to install. Production sets
DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, ALLOWED_HOSTS, MEDIA_ROOT.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LABTRACK_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


# pytest (>= 8.2) sets PYTEST_VERSION: tests never share a broker or database with the demo.
TESTING = "PYTEST_VERSION" in os.environ

DEBUG = env_bool("DEBUG", True)
# The embedded default is a demo on a workstation; production must set its own key.
SECRET_KEY = os.environ.get("SECRET_KEY") or "labtrack-embedded-demo-key-not-for-production"
if not DEBUG and SECRET_KEY.startswith("labtrack-embedded"):
    raise RuntimeError("Set SECRET_KEY in the environment when DEBUG is off.")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "simple_history",
    "labtrack.core",
    "labtrack.samples",
    "labtrack.measurements",
    "labtrack.analyses",
    "labtrack.insights",
    "labtrack.web",
    "labtrack.operations",
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
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "labtrack.urls"
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
                "labtrack.web.navigation.navigation",
            ],
        },
    },
]
WSGI_APPLICATION = "labtrack.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'labtrack.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the worker share the SQLite file: wait for locks, don't fail.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file (not :memory:) so a worker process in the integration tests can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-labtrack-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "batch_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "labtrack" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / ("test-media" if TESTING else "media")))
MEDIA_URL = "media/"

# Uploads: the largest single raw file LabTrack accepts (a TopSpin zip, a TIFF stack).
LABTRACK_MAX_UPLOAD_BYTES = int(os.environ.get("LABTRACK_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Files stream to disk and the body stops being read at the limit (see the handler).
FILE_UPLOAD_HANDLERS = ["labtrack.measurements.uploads.BoundedUploadHandler"]
LABTRACK_MAX_FILES_PER_UPLOAD = int(os.environ.get("LABTRACK_MAX_FILES_PER_UPLOAD", "20"))
DATA_UPLOAD_MAX_NUMBER_FILES = LABTRACK_MAX_FILES_PER_UPLOAD

# --- Celery -------------------------------------------------------------------------
# Embedded default: kombu's SQLAlchemy transport on a SQLite file, no server needed.
_broker_file = "test-celery-broker.sqlite3" if TESTING else "celery-broker.sqlite3"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{VAR_DIR / _broker_file}"
CELERY_RESULT_BACKEND = None  # results live in AnalysisRun rows, not in Celery
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged message after this; longer than the hard time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_S", "600"))}
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else {}
)
# Publishing to a broker that is down fails fast; the sweep re-dispatches later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BEAT_SCHEDULE = {
    # expires: a sweep message that waited past the next one's time is dropped, so a
    # backlog never turns into a burst of sweeps.
    "sweep-stuck-runs": {"task": "labtrack.analyses.tasks.sweep_stuck_runs", "schedule": 30.0,
                         "options": {"expires": 25}},
}
# A run queued or running longer than this is re-dispatched by the sweep.
LABTRACK_RUN_DEADLINE_S = int(os.environ.get("LABTRACK_RUN_DEADLINE_S", "360"))
LABTRACK_RUN_MAX_ATTEMPTS = int(os.environ.get("LABTRACK_RUN_MAX_ATTEMPTS", "3"))
# The analysis task's limits: at the soft limit the run fails with that reason; at the hard
# limit the worker process is killed. The sweep must wait longer than the hard limit, or it
# would re-queue runs that are still running.
LABTRACK_RUN_SOFT_TIME_LIMIT_S = int(os.environ.get("LABTRACK_RUN_SOFT_TIME_LIMIT_S", "240"))
LABTRACK_RUN_TIME_LIMIT_S = LABTRACK_RUN_SOFT_TIME_LIMIT_S + 60
if LABTRACK_RUN_DEADLINE_S <= LABTRACK_RUN_TIME_LIMIT_S:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"LABTRACK_RUN_DEADLINE_S={LABTRACK_RUN_DEADLINE_S} must exceed the analysis hard time limit "
        f"({LABTRACK_RUN_TIME_LIMIT_S} s = LABTRACK_RUN_SOFT_TIME_LIMIT_S + 60), or the sweep re-queues "
        "runs that are still running.")
LABTRACK_SWEEP_MAX_REDISPATCH = int(os.environ.get("LABTRACK_SWEEP_MAX_REDISPATCH", "200"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if TESTING:
    # Password hashing is deliberately slow; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# History is evidence: the admin shows it and never reverts to it.
SIMPLE_HISTORY_REVERT_DISABLED = True
