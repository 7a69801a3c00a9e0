"""Zhongkong settings: everything comes from the environment (django-environ).

The embedded default (what `make run` writes into `.env`) is SQLite plus a file-system
Celery broker; production sets DATABASE_URL, CELERY_BROKER_URL and CACHE_URL. Every
secret may also be given as `<NAME>_FILE` (a path whose content is the value).
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

env = environ.FileAwareEnv()
_env_file = Path(os.environ.get("ENV_FILE", BASE_DIR / ".env"))
if _env_file.is_file():
    env.read_env(_env_file)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Keys: the audit chain and fingerprints use their own key, never an encryption key.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if AUDIT_HMAC_KEY in FIELD_ENCRYPTION_KEYS or AUDIT_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must differ from SECRET_KEY and the encryption keys")
if len(AUDIT_HMAC_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be at least 32 characters")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",  # the authenticator app's codes
    "django_otp.plugins.otp_static",  # recovery codes, each usable once
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # The floors, ground first: each app imports only apps listed above it
    # (tests/test_architecture.py); the sandbox stands apart, on the ground alone.
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.sandbox",
    "apps.vault",
    "apps.tokens",
    "apps.signin",
    "apps.console",
    "apps.alerts",
    "apps.home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside every middleware that may answer early (the 413 below), so each answer carries
    # the content security policy and the frame refusal.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIDMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.ChosenLanguageMiddleware",
    "apps.core.middleware.BodyTooLargeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.middleware.SecondFactorMiddleware",
    "apps.accounts.middleware.PasswordChangeRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.role",
                "apps.signin.context_processors.platform_sign_ins",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue instead of failing half-way (the audit chain relies on that lock).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The role that owns the tables and runs migrations (`manage.py release`), when it is not the
# application's own: then the application cannot disable the audit log's triggers.
if env.str("MIGRATION_DATABASE_URL", default=""):
    DATABASES["migrate"] = env.db("MIGRATION_DATABASE_URL")

# The embedded default's cache is process memory. It holds the console's rate windows and the
# token centre's leases, so it must never drop one to make room (Django's default keeps 300
# entries and culls a third of them when full: a day window culled is a quota burnt).
EMBEDDED_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "zhongkong",
    "OPTIONS": {"MAX_ENTRIES": 1_000_000},
}
CACHES = {"default": env.cache("CACHE_URL") if env.str("CACHE_URL", default="") else EMBEDDED_CACHE}
if "redis" in CACHES["default"]["BACKEND"].lower():
    # A Redis that stops answering (frozen, partitioned) fails a call after this long instead
    # of holding the thread: everything that reads the cache has a database fallback.
    _timeout = env.float("CACHE_SOCKET_TIMEOUT", default=1.0)
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", _timeout)
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", _timeout)

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ],
)
LOGIN_URL = "accounts:login"
# Sign-in with the platforms (django-allauth, apps/signin): which credential serves it is an
# admin's setting in the database; nothing about the platforms' apps is configured here.
ACCOUNT_ADAPTER = "apps.signin.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "apps.signin.adapter.SignInAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False  # a user's platform token is never kept for signing in
SOCIALACCOUNT_LOGIN_ON_GET = False  # leaving for the platform takes a POST (CSRF-checked)
LOGIN_REDIRECT_URL = "home:overview"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# Second factor: codes from an authenticator app (TOTP), recovery codes for a lost phone.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Zhongkong")
OTP_TOTP_SYNC = True
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Wrong second-factor codes count like wrong passwords: AXES_FAILURE_LIMIT of them lock the
# second step for AXES_COOLOFF_TIME (django-otp's own back-off applies as well).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # unlocking is an audited act on the users page, not an admin edit
# The reverse proxies in front of Zhongkong (addresses or CIDRs): X-Forwarded-For is believed
# only when the TCP peer is one of them (apps/core/middleware.client_ip). One client-IP
# function serves sign-in throttling, the audit log and /metrics' allow-list.
if "TRUSTED_PROXY_COUNT" in os.environ:  # the old setting, refused rather than ignored
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT believed X-Forwarded-For from any peer and is gone: set "
        "TRUSTED_PROXIES to the proxies' addresses or CIDRs (e.g. 10.0.0.0/24)"
    )
try:
    TRUSTED_PROXIES = [
        __import__("ipaddress").ip_network(net, strict=False)
        for net in env.list("TRUSTED_PROXIES", default=[])
    ]
except ValueError as _exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_exc}") from None
AXES_CLIENT_IP_CALLABLE = "apps.core.middleware.client_ip"

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "apps" / "core" / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True

# --- Static -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security ---------------------------------------------------------------------------
# Error pages and reports show variable and POST field names, never their values.
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.errors.SecretSafeReporterFilter"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Celery -----------------------------------------------------------------------------
# Tasks carry ids only; JSON only; no result backend (nothing a task returns is kept).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"  # its folders are made by project/celery.py
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_MAX_LOOP_INTERVAL = 10
# Beat on two hosts (apps/core/beat.py): on a Redis broker, celery-redbeat keeps the schedule
# in Redis and lets the beat holding its lock schedule; a standby takes over within
# CELERY_BEAT_LOCK_SECONDS (+ one loop) of the active one's death. Otherwise one beat.
CELERY_BEAT_LOCK_SECONDS = env.int("CELERY_BEAT_LOCK_SECONDS", default=30)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BEAT_SCHEDULER = "apps.alerts.beat:WatchingRedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
    CELERY_REDBEAT_KEY_PREFIX = "zhongkong:beat"
    CELERY_REDBEAT_LOCK_TIMEOUT = CELERY_BEAT_LOCK_SECONDS
    CELERY_REDBEAT_REDIS_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 5}
else:
    CELERY_BEAT_SCHEDULER = "apps.alerts.beat:WatchingScheduler"

# Where this Zhongkong is reached; demo credentials point their sandbox base URL here.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.str('PORT', default='8000')}")

# Platform emulators under /sandbox/<provider>/ (demo and tests). Off in production.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)

# Each emulator also has an origin of its own: a port per platform from SANDBOX_ORIGIN_PORT
# (feishu, feishu_project, flashduty, freelog, itrigger, wechat, wecom, dingtalk).
SANDBOX_ORIGIN_HOST = env.str("SANDBOX_ORIGIN_HOST", default="127.0.0.1")
SANDBOX_ORIGIN_PORT = env.int(
    "SANDBOX_ORIGIN_PORT", default=int(env.str("PORT", default="8000")) + 1
)

# Console: hosts reachable although not public (host:port), e.g. this Zhongkong's sandbox.
CONSOLE_INTERNAL_TARGETS = env.list("CONSOLE_INTERNAL_TARGETS", default=[])
if SANDBOX_ENABLED:
    from urllib.parse import urlsplit as _urlsplit

    _site = _urlsplit(SITE_URL)
    CONSOLE_INTERNAL_TARGETS.append(f"{_site.hostname}:{_site.port or 80}")
    CONSOLE_INTERNAL_TARGETS += [
        f"{SANDBOX_ORIGIN_HOST}:{SANDBOX_ORIGIN_PORT + i}" for i in range(8)
    ]

# Token centre.
TOKEN_SCAN_INTERVAL = env.float("TOKEN_SCAN_INTERVAL", default=60.0)
TOKEN_FETCH_TIMEOUT = env.float("TOKEN_FETCH_TIMEOUT", default=15.0)
TOKEN_LEASE_SECONDS = env.int("TOKEN_LEASE_SECONDS", default=30)  # > fetch timeout
TOKEN_WAIT_POLL = env.float("TOKEN_WAIT_POLL", default=0.05)
# How long a request waits for another caller's fetch: well inside the 30-60 s after which
# load balancers and clients give up, so a slow platform never leaves a caller hanging.
TOKEN_WAIT_MAX = env.float("TOKEN_WAIT_MAX", default=20.0)
# How many requests of one process may go on waiting for a *slow* fetch (past
# TOKEN_WAIT_FAST); the others answer 503 with Retry-After, so a hanging platform never
# takes every thread (the Procfile's web processes have 8 threads each).
TOKEN_MAX_WAITERS = env.int("TOKEN_MAX_WAITERS", default=6)
# While another caller's fetch is younger than this, every caller waits for it (a platform
# answering in well under a second serves them all); once it is older only
# TOKEN_MAX_WAITERS threads of a process wait on, for a slow platform.
TOKEN_WAIT_FAST = env.float("TOKEN_WAIT_FAST", default=2.0)
# A rejection that a fetch answered is answered with that fetch's result for at least this
# long (longer while the platform keeps handing the same token back): one fetch per
# rejected token, however many servers report it.
TOKEN_REJECTION_WINDOW = env.float("TOKEN_REJECTION_WINDOW", default=300.0)
TOKEN_BACKOFF_BASE = env.float("TOKEN_BACKOFF_BASE", default=5.0)
TOKEN_BACKOFF_MAX = env.float("TOKEN_BACKOFF_MAX", default=600.0)
# How often each process reads the access generation (apps/core/generation.py): a revoked
# key or a disabled credential is refused everywhere within about this long of the commit.
GENERATION_POLL_SECONDS = env.float("GENERATION_POLL_SECONDS", default=0.5)
# A token with less life left than this is renewed before it is handed out (single-flight),
# where the platform would issue a new one; otherwise it goes out with the life it has.
TOKEN_MIN_HANDOUT_LIFE = env.float("TOKEN_MIN_HANDOUT_LIFE", default=300.0)
TOKEN_API_RATE_LIMIT = env.int("TOKEN_API_RATE_LIMIT", default=1200)  # per client key a minute
# Each web process counts its token hand-outs in a small memory-mapped file here
# (apps/tokens/ledger.py); in memory (/dev/shm) when the host has it.
_SHM = Path("/dev/shm")  # noqa: S108 (a memory file system; a directory per deployment)
TOKEN_LEDGER_DIR = env.path(
    "TOKEN_LEDGER_DIR",
    default=str(
        _SHM / f"zhongkong-{hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:8]}"
        if _SHM.is_dir()
        else VAR_DIR / "ledger"
    ),
)
# How often a web process adds its counts to Redis, and sends a finished minute's again until
# the audit task has moved it into the database (apps/tokens/ledger.py).
TOKEN_LEDGER_FLUSH_SECONDS = env.float("TOKEN_LEDGER_FLUSH_SECONDS", default=0.1)
TOKEN_LEDGER_RESEND_SECONDS = env.float("TOKEN_LEDGER_RESEND_SECONDS", default=2.0)

# Prometheus metrics (/metrics). Every process (web workers, Celery) writes its counters
# into this directory and a scrape sums them (prometheus-client's multiprocess mode); set
# before anything imports prometheus_client. A scrape is allowed from METRICS_ALLOWED_IPS
# or with `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_DIR = env.path("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# Heartbeats older than this make /healthz answer 503.
HEALTH_MAX_HEARTBEAT_AGE = env.int("HEALTH_MAX_HEARTBEAT_AGE", default=90)

# --- Alerts -----------------------------------------------------------------------------
# How often the rules are judged; a refresh failing this many times in a row; a token this
# many minutes from expiry with no fresh one; the share of a daily fetch cap that warns;
# how many times a delivery is tried; the hour of the nightly audit-chain verification.
ALERT_EVALUATE_SECONDS = env.float("ALERT_EVALUATE_SECONDS", default=60.0)
ALERT_FAILURES = env.int("ALERT_FAILURES", default=3)
ALERT_EXPIRY_MINUTES = env.int("ALERT_EXPIRY_MINUTES", default=10)
ALERT_GRANT_DAYS = env.int("ALERT_GRANT_DAYS", default=3)  # warn this long before a grant ends
ALERT_CAP_PERCENT = env.int("ALERT_CAP_PERCENT", default=80)
ALERT_DELIVERY_ATTEMPTS = env.int("ALERT_DELIVERY_ATTEMPTS", default=5)
ALERT_RETRY_SECONDS = env.float("ALERT_RETRY_SECONDS", default=30.0)  # doubling, at most 10 min
ALERT_AUDIT_VERIFY_HOUR = env.int("ALERT_AUDIT_VERIFY_HOUR", default=3)
# E-mail channels send through this server (smtp://user:password@host:587/?tls=True).
vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="zhongkong@localhost")
# "Forgot your password?" by e-mail, offered once an e-mail server is configured.
PASSWORD_RESET_BY_EMAIL = env.bool(
    "PASSWORD_RESET_BY_EMAIL", default=bool(env.str("EMAIL_URL", ""))
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)  # a link's life

# --- Logging ----------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {"redact": {"()": "apps.core.log.RedactQueryFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            # No query value (a client key, a platform's key or token) reaches a log line.
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # granian's access log (web processes) goes through the same handler, so it is
        # redacted and in the same format as every other line.
        "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # urllib3 logs each request line at DEBUG, query string included: where a platform
        # takes its key or token in the URL (a bot's key, WeChat's access_token) that would
        # put it in the logs. Its warnings still come through.
        "urllib3": {"level": "WARNING"},
    },
}
