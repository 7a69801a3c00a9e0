"""Settings for the test suite: project settings plus test values for what the
environment does not set. CI exports the service URLs; locally the defaults point at the
PostgreSQL and Redis this machine runs. A developer's `.env` is never read here."""

from __future__ import annotations

import os
import tempfile

_TEST_ENV = {
    "ENV_FILE": "/dev/null/not-a-file",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdefghij",
    "AUDIT_HMAC_KEY": "test-audit-hmac-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_KEYS": "k1:wz5GyN0qWm9G7Ty8yOQ0wQX2A2k5wVZ8R1y3o6D0pN4=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/zhongkong",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "PASSWORD_HASHERS": "django.contrib.auth.hashers.MD5PasswordHasher",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "STATIC_MANIFEST": "false",
    "LOG_FORMAT": "text",
    "SANDBOX_ENABLED": "true",
    "CONN_MAX_AGE": "0",
    # The live servers the tests start listen on loopback ports chosen at random; the SSRF
    # tests empty this list to prove loopback is refused.
    "CONSOLE_INTERNAL_TARGETS": "127.0.0.1:*,localhost:*",
}
if "TOKEN_LEDGER_DIR" not in os.environ:  # this run's own (the servers it starts inherit it)
    _TEST_ENV["TOKEN_LEDGER_DIR"] = tempfile.mkdtemp(prefix="zk-ledger-")
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:  # this run's own, like the ledger's
    _TEST_ENV["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="zk-metrics-")
for _name, _value in _TEST_ENV.items():
    os.environ.setdefault(_name, _value)

from project.settings import *  # noqa: E402,F403
