"""LabTrack settings, configured from the environment.

With only DEBUG=1 set (as `make demo` does; the test run needs nothing), LabTrack runs on
its embedded default: SQLite and media files under `var/`, and Celery over kombu's
SQLAlchemy transport on a SQLite file, so a real worker process runs analyses
asynchronously with no server to install. DEBUG is off when unset, and then a real
SECRET_KEY is required. Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL
(Redis), SECRET_KEY, ALLOWED_HOSTS, MEDIA_ROOT.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from labtrack.storage_env import blob_storage_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LABTRACK_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


# pytest (>= 8.2) sets PYTEST_VERSION: tests never share a broker or database with the demo.
TESTING = "PYTEST_VERSION" in os.environ

# Off unless asked for: a forgotten variable must not publish tracebacks and settings.
# `make demo` and deploy/run-demo.sh set DEBUG=1 explicitly.
DEBUG = env_bool("DEBUG", False)
# The embedded key is public (it is in this file): fine for a demo on a workstation or a
# test run, never for a server. The placeholder of deploy/labtrack.env.example and any
# short key are refused too, so a copied-but-unedited env file cannot start production.
EMBEDDED_SECRET_KEY = "labtrack-embedded-demo-key-not-for-production"
PLACEHOLDER_SECRET_KEYS = {EMBEDDED_SECRET_KEY, "change-me-to-a-long-random-string", "change-me"}
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or EMBEDDED_SECRET_KEY


def check_secret_key(secret_key: str, *, debug: bool, testing: bool) -> None:
    """Refuse to start a non-debug server with a public, placeholder or short SECRET_KEY."""
    if debug or testing:
        return
    if secret_key in PLACEHOLDER_SECRET_KEYS or secret_key.startswith("change-me"):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or still the placeholder from deploy/labtrack.env.example, and "
            "DEBUG is off. Set SECRET_KEY in the environment to a long random string, e.g. the "
            "output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
            "(For the local demo only, set DEBUG=1 instead, as `make demo` does.)")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY is only {len(secret_key)} characters long; with DEBUG off it must have at "
            f"least {MIN_SECRET_KEY_LENGTH}. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'")


check_secret_key(SECRET_KEY, debug=DEBUG, testing=TESTING)
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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "labtrack.core",
    "labtrack.samples",
    "labtrack.measurements",
    "labtrack.analyses",
    "labtrack.ageing",
    "labtrack.insights",
    "labtrack.dropfolders",
    "labtrack.web",
    "labtrack.operations",
    "labtrack.accounts",
    "labtrack.exchange",
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
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during login into the page.
    "axes.middleware.AxesMiddleware",
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
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Issue 16: PostgreSQL's JIT compiles any query its planner costs high (a sort over
    # 10,000 batches) and spends 100-160 ms on it for queries that then run in ~1 ms.
    # Pages are short queries; JIT only pays for long analytics.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username before any password is hashed, for
# the login page, the admin and HTTP basic on the API alike (DRF calls authenticate()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock by username, not IP: behind nginx every client has the proxy's address, and an
# attacker rotating addresses must not get fresh tries. The price: anyone who knows a
# username can lock it for the cool-off; a manager resets earlier with
# `python manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = int(os.environ.get("LABTRACK_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LABTRACK_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that a lockout without the IP can be dodged by rotating user agents or
# cookies; a username-only lockout does not look at either, and adding the IP would lock
# out everyone behind the proxy at once. Silenced so `check --deploy` stays meaningful.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_COOLOFF_MESSAGE = (
    f"This account is locked after {AXES_FAILURE_LIMIT} wrong passwords in a row. "
    f"Try again in {int(AXES_COOLOFF_TIME.total_seconds() // 60)} minutes, or ask a LabTrack manager to unlock it.")
# Attempt records in the database, not the cache: every worker sees them (no shared cache here).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False

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

# --- Blob storage (issue 16): raw files by checksum --------------------------------------
# Embedded default: files under MEDIA_ROOT. LABTRACK_STORAGE=s3 keeps them in an
# S3-protocol bucket (AWS S3, MinIO, Ceph RGW) through django-storages, so web servers and
# workers on several machines share only PostgreSQL, Redis and the bucket.
LABTRACK_STORAGE, _blob_storage = blob_storage_config(os.environ)
STORAGES = {
    "default": _blob_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: the largest single raw file LabTrack accepts (a TopSpin zip, a TIFF stack).
LABTRACK_MAX_UPLOAD_BYTES = int(os.environ.get("LABTRACK_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Files stream to disk and the body stops being read at the limit (see the handler).
FILE_UPLOAD_HANDLERS = ["labtrack.measurements.uploads.BoundedUploadHandler"]
LABTRACK_MAX_FILES_PER_UPLOAD = int(os.environ.get("LABTRACK_MAX_FILES_PER_UPLOAD", "20"))
DATA_UPLOAD_MAX_NUMBER_FILES = LABTRACK_MAX_FILES_PER_UPLOAD

# E-mail: the console in the demo and tests, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "labtrack@localhost")
# Absolute links in e-mails and the calendar feed (no request to build them from).
LABTRACK_BASE_URL = os.environ.get("LABTRACK_BASE_URL", "http://localhost:8000")

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
# Periodic upkeep (the sweep, reminders) has its own queue, so its messages never wait
# behind a backlog of fits. The daily raw-file check, which can run for the length of a
# re-hash of every blob, has one more: a lab can give it a worker of its own
# (`-Q integrity`) and keep it from the others (`-X integrity`). Every worker consumes
# all three queues unless started with -Q or -X.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "maintenance": {}, "integrity": {}}
CELERY_TASK_ROUTES = {
    "labtrack.analyses.tasks.sweep_stuck_runs": {"queue": "maintenance"},
    "labtrack.ageing.tasks.send_due_reminders": {"queue": "maintenance"},
    "labtrack.operations.tasks.verify_raw_files": {"queue": "integrity"},
}
CELERY_BEAT_SCHEDULE = {
    # expires: a sweep message that waited past the next one's time is dropped, so a
    # backlog never turns into a burst of sweeps.
    "sweep-stuck-runs": {"task": "labtrack.analyses.tasks.sweep_stuck_runs", "schedule": 30.0,
                         "options": {"expires": 25}},
    # Pull-point reminders: each is sent once (a ReminderSent row), so the period only
    # sets how soon after a window opens the e-mail goes out.
    "ageing-reminders": {"task": "labtrack.ageing.tasks.send_due_reminders", "schedule": 900.0},
    # Every raw file re-hashed once a day; a pass already running (a slow store, an
    # overlapping tick) makes the next one a no-op, and a tick left waiting an hour is dropped.
    "verify-raw-files": {"task": "labtrack.operations.tasks.verify_raw_files", "schedule": 86400.0,
                         "options": {"expires": 3600}},
}
# --- Drop folders (issue 13) ---------------------------------------------------------
# Folders LabTrack may watch must lie under one of these (colon-separated); a manager
# cannot point it at the server's own files.
LABTRACK_DROPFOLDER_ROOTS = [p for p in os.environ.get(
    "LABTRACK_DROPFOLDER_ROOTS", str(VAR_DIR / "dropfolders")).split(os.pathsep) if p]
LABTRACK_DROPFOLDER_SCAN_INTERVAL_S = float(os.environ.get("LABTRACK_DROPFOLDER_SCAN_INTERVAL_S", "60"))
# A scan's claim on its folder; a killed scanner's claim lapses after this.
LABTRACK_DROPFOLDER_CLAIM_S = int(os.environ.get("LABTRACK_DROPFOLDER_CLAIM_S", "900"))
CELERY_BEAT_SCHEDULE["dropfolder-scan"] = {
    "task": "labtrack.dropfolders.tasks.scan_dropfolders", "schedule": LABTRACK_DROPFOLDER_SCAN_INTERVAL_S,
    "options": {"expires": LABTRACK_DROPFOLDER_SCAN_INTERVAL_S}}
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
        # Personal API tokens (issue 13): "Authorization: Token lt_…", hashed, scoped, revocable.
        "labtrack.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # HTTP basic that answers a locked-out username with the lockout message (django-axes).
        "labtrack.core.auth.LockoutAwareBasicAuthentication",
    ],
    # Authenticated, and a read-only token may only read (issue 13).
    "DEFAULT_PERMISSION_CLASSES": ["labtrack.api.permissions.IsAuthenticatedWithTokenScope"],
    "DEFAULT_PAGINATION_CLASS": "labtrack.api.pagination.LabTrackPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "labtrack.api.schema.LabTrackAutoSchema",
    # Every error as {"detail": ..., "errors": {field: [messages]}} (labtrack.api.errors).
    "EXCEPTION_HANDLER": "labtrack.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("LABTRACK_API_ANON_RATE", "60/min"),
        "user": os.environ.get("LABTRACK_API_USER_RATE", "6000/min" if TESTING else "1200/min"),
    },
}
# Throttle counters live in the cache: one process-local cache unless CACHE_URL (Redis)
# is set, so with several gunicorn workers the limit is per worker without it.
if os.environ.get("LABTRACK_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["LABTRACK_CACHE_URL"]}}
SPECTACULAR_SETTINGS = {
    "TITLE": "LabTrack API",
    "DESCRIPTION": ("Batches, samples, measurements (raw-file uploads), analysis runs and their review, and the "
                    "results of record of a materials-chemistry lab. Authenticate with a personal API token "
                    "(`Authorization: Token lt_…`, created at /account/tokens/) or a browser session. Every "
                    "error body is `{\"detail\": \"…\", \"errors\": {\"field\": [\"message\"]}}`."),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TechniqueEnum": "labtrack.measurements.models.Technique",
        "ReviewStateEnum": "labtrack.core.records.ReviewState",
        "RunStatusEnum": "labtrack.core.records.RunStatus",
        "BatchStatusEnum": "labtrack.samples.models.BatchStatus",
        "AtmosphereEnum": "labtrack.samples.models.Atmosphere",
        "LightEnum": "labtrack.samples.models.Light",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint (the study report PDF) logs every step and unsupported CSS at INFO/WARNING.
    "loggers": {"django.db.backends": {"level": "INFO"}, "weasyprint": {"level": "ERROR"},
                "fontTools": {"level": "ERROR"}},
}

# Security headers on every response (Django's defaults made explicit, plus a CSP). The
# pages load one script and one stylesheet from /static/ and nothing inline, so the policy
# needs no 'unsafe-inline'; figures are <img> from our own views, a re-fit preview a data: URI.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# HTTPS-only cookies, redirect and HSTS whenever DEBUG is off, except in the test run
# (its test client speaks plain HTTP); LABTRACK_HTTPS_ONLY=0 for a TLS-less intranet.
HTTPS_ONLY = env_bool("LABTRACK_HTTPS_ONLY", not DEBUG and not TESTING)
if HTTPS_ONLY:
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


# Exchange (issue 13): spreadsheet import and .eln bundles. A sheet of syntheses is small;
# these bound what one upload may cost (bytes, rows, columns) before anything is parsed.
LABTRACK_IMPORT_MAX_BYTES = int(os.environ.get("LABTRACK_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
LABTRACK_IMPORT_MAX_ROWS = int(os.environ.get("LABTRACK_IMPORT_MAX_ROWS", "5000"))
LABTRACK_IMPORT_MAX_COLUMNS = int(os.environ.get("LABTRACK_IMPORT_MAX_COLUMNS", "100"))
# An .eln is a zip: its entries, their total unpacked size and their compression ratio
# are checked from the central directory before a byte is extracted.
LABTRACK_ELN_MAX_ENTRIES = int(os.environ.get("LABTRACK_ELN_MAX_ENTRIES", "5000"))
LABTRACK_ELN_MAX_UNPACKED_BYTES = int(os.environ.get("LABTRACK_ELN_MAX_UNPACKED_BYTES", str(4 * 1024 * 1024 * 1024)))
LABTRACK_ELN_MAX_RATIO = int(os.environ.get("LABTRACK_ELN_MAX_RATIO", "200"))
LABTRACK_ELN_MAX_METADATA_BYTES = int(os.environ.get("LABTRACK_ELN_MAX_METADATA_BYTES", str(32 * 1024 * 1024)))
