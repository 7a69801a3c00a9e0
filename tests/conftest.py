from __future__ import annotations

import os
import secrets
import string
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may skip: an integration or browser test that cannot run is a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


def _flush_as_the_owner() -> None:
    """Between transactional tests Django empties every table with TRUNCATE, which the audit
    log's triggers refuse, as they must for the application. The tests run as the database's
    owner and empty it as an owner restoring a backup would: with triggers off for that
    statement only."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush


_flush_as_the_owner()


class CsrfClient(Client):
    """A test client that enforces CSRF like a browser session does, and sends the token
    the way our pages do (the X-CSRFToken header htmx adds from <body hx-headers>)."""

    def __init__(self, **defaults):
        super().__init__(enforce_csrf_checks=True, **defaults)

    def csrf_token(self) -> str:
        name = settings.CSRF_COOKIE_NAME
        if name not in self.cookies:
            alphabet = string.ascii_letters + string.digits
            self.cookies[name] = "".join(secrets.choice(alphabet) for _ in range(32))
        return self.cookies[name].value

    def generic(self, method, path, *args, **extra):
        if method.upper() not in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            extra.setdefault("HTTP_X_CSRFTOKEN", self.csrf_token())
        return super().generic(method, path, *args, **extra)


@pytest.fixture
def make_user(db):
    from apps.accounts.models import User
    from apps.accounts.roles import ensure_roles
    from apps.accounts.services import _set_role

    ensure_roles()

    def make(username: str, role: str | None, password: str = "correct horse battery", **fields):
        user = User.objects.create_user(username=username, password=password, **fields)
        if role:
            _set_role(user, role)
        return user

    return make


@pytest.fixture
def users(make_user):
    return SimpleNamespace(
        admin=make_user("alice-admin", "admin"),
        developer=make_user("dev-dan", "developer"),
        auditor=make_user("audrey-auditor", "auditor"),
        nobody=make_user("no-role", None),
    )


@pytest.fixture
def client_as(users):
    def make(role: str | None) -> CsrfClient:
        client = CsrfClient()
        if role is not None:
            client.force_login(getattr(users, role), backend=MODEL_BACKEND)
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def _urls_as_configured():
    """The URLconf is read once a process, with the settings the tests run with (the sandbox
    mounted): a test that turns SANDBOX_ENABLED off for itself must not be the one whose
    first request reads it, or the sandbox is gone for every test after it."""
    from django.urls import resolve

    resolve("/")


@pytest.fixture(scope="session", autouse=True)
def _generation_poller(django_db_setup):
    """Each process polls the access generation in a thread of its own; this one stops
    before the test database is dropped (a poll holding a connection would block it)."""
    yield
    from apps.core import generation

    generation._WATCHER.stop()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as each starts with an empty database, and so
    with the access generation at 0: a test that committed a higher one was flushed, and
    this process's poller may not have read the flushed table yet (in production the
    generation only grows)."""
    from django.core.cache import cache

    from apps.core import generation

    cache.clear()
    generation._WATCHER.set(0)
    yield


@pytest.fixture
def upstream(settings):
    """A fake platform on loopback: the token path (`upstream.token_path`) answers
    `upstream.token_body`, every other path `upstream.reply` (status, headers, body)."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.helpers import FakeUpstream

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    server.token_path, server.token_body = None, b"{}"
    server.reply = (200, {}, b"{}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CONSOLE_INTERNAL_TARGETS = [f"127.0.0.1:{server.server_port}"]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_credential(live_server):
    """A credential on an emulated platform, plus its sandbox app."""
    from apps.providers.registry import get_provider
    from apps.sandbox.services import sandbox_app_register
    from apps.vault.services import credential_create

    def make(
        provider: str = "feishu",
        slug: str = "feishu-main",
        secret: str | None = None,
        **sandbox_settings,
    ):
        app, real_secret = sandbox_app_register(
            provider=provider, app_id=f"app-{slug}", **sandbox_settings
        )
        platform = get_provider(provider)
        values = platform.sample_values(app.app_id, secret or real_secret)
        credential = credential_create(
            by=None,
            provider=provider,
            name=slug,
            slug=slug,
            environment="test",
            base_url=f"{live_server.url}/sandbox/{provider}",
            public={k: v for k, v in values.items() if k not in platform.secret_fields},
            secrets={k: v for k, v in values.items() if k in platform.secret_fields},
        )
        return credential, app

    return make


@pytest.fixture
def client_key():
    from apps.tokens.services import client_key_create

    def make(*credentials, name="order-service", **kwargs):
        return client_key_create(name=name, credentials=list(credentials), **kwargs)

    return make
