"""The token API as production serves it (project/wsgi.py): the common request answered
before Django (apps/tokens/wsgi.py) exactly as the view would answer it, everything else
through its own short middleware stack, with none of the pages' (session, CSRF, language,
CSP)."""

from __future__ import annotations

import io
import json
import time

import pytest

from apps.tokens import cache as token_cache
from apps.tokens.models import ClientKey
from apps.tokens.services import client_key_revoke

pytestmark = pytest.mark.django_db(transaction=True)


def _environ(path: str, headers: dict[str, str]) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }


def _call(app, path: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(response_headers)

    response = app(_environ(path, headers), start_response)
    body = b"".join(response)
    if hasattr(response, "close"):  # as a WSGI server does (PEP 3333)
        response.close()
    return seen["status"], seen["headers"], body


def test_production_serves_the_token_api_through_its_own_stack(token_credential, client_key):
    from project.wsgi import application

    credential, _ = token_credential(slug="fs-lean")
    _, key = client_key(credential)
    status, headers, body = _call(
        application, "/api/v1/tokens/fs-lean", {"Authorization": f"Bearer {key}"}
    )
    assert status.startswith("200") and b'"access_token"' in body
    assert headers["Cache-Control"] == "no-store" and headers["X-Request-ID"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Vary" not in headers and "Content-Language" not in headers
    assert not any(k.lower().startswith("content-security-policy") for k in headers)
    status, headers, _ = _call(application, "/api/v1/tokens/fs-lean", {})
    assert status.startswith("401") and headers["X-Request-ID"]
    status, headers, body = _call(application, "/accounts/login/", {})
    assert status.startswith("200") and "Content-Language" in headers  # the pages' stack


class _Counting:
    """The lean Django handler, counting the requests it is given."""

    def __init__(self, handler):
        self.handler, self.calls = handler, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def _token_api():
    from apps.core.handlers import token_api_handler
    from apps.tokens.wsgi import TokenAPI

    django = _Counting(token_api_handler())
    return TokenAPI(django), django


def _without_id(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("X-Request-ID", "Content-Length")}


@pytest.mark.parametrize("https", [False, True])
def test_the_common_request_is_answered_before_django_as_django_would(
    token_credential, client_key, settings, https
):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if 60 - time.time() % 60 < 5:  # the counted requests fall in one minute's window
        time.sleep(5)
    credential, _ = token_credential(slug="fs-fast")
    record, key = client_key(credential)
    app, django = _token_api()
    headers = {"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https" if https else "http"}
    assert _call(app, "/api/v1/tokens/fs-fast", headers)[0].startswith("200")  # fetched
    token_cache.forget_token("fs-fast")
    token_cache.forget_client_key(ClientKey.hash(key))
    # The entries are not in Redis: Django reads the database (and keeps them).
    status, through_django, body = _call(app, "/api/v1/tokens/fs-fast", headers)
    assert status.startswith("200") and django.calls == 2
    status, fast, fast_body = _call(app, "/api/v1/tokens/fs-fast", headers)
    assert status.startswith("200") and django.calls == 2  # answered before Django
    assert _without_id(fast) == _without_id(through_django)
    assert ("Strict-Transport-Security" in fast) is https
    assert int(fast["Content-Length"]) == len(fast_body)
    assert fast["X-Request-ID"] != through_django["X-Request-ID"]
    assert json.loads(fast_body) | {"expires_in": 0} == json.loads(body) | {"expires_in": 0}
    status, fast, _ = _call(
        app, "/api/v1/tokens/fs-fast", {**headers, "X-Request-ID": "caller-chosen-id-1"}
    )
    assert fast["X-Request-ID"] == "caller-chosen-id-1"
    minute = int(time.time() // 60)
    assert token_cache.ledger().requests(record.pk, minute) == 4  # each counted once


def test_what_the_fast_path_cannot_answer_goes_to_django(token_credential, client_key, settings):
    credential, _ = token_credential(slug="fs-slow")
    record, key = client_key(credential)
    app, django = _token_api()
    auth = {"Authorization": f"Bearer {key}"}
    assert _call(app, "/api/v1/tokens/fs-slow", auth)[0].startswith("200")
    calls = django.calls
    cases = [
        ("/api/v1/tokens/fs-slow", {}, "401"),  # no key
        ("/api/v1/tokens/fs-slow", {"Authorization": "Bearer zk_unknown"}, "401"),
        ("/api/v1/tokens/nowhere", auth, "404"),
        ("/api/v1/tokens/fs-slow/", auth, "404"),  # JSON, as below
        ("/api/v1/tokens/fs-slow/more", auth, "404"),
        ("/api/v1/openapi.json", {}, "200"),
    ]
    for path, headers, expected in cases:
        status, answered, body = _call(app, path, headers)
        assert status.startswith(expected), path
        assert answered["Content-Type"] == "application/json", path
        assert expected == "200" or json.loads(body)["error"]["code"], path
        calls += 1
        assert django.calls == calls, path
    settings.TOKEN_API_RATE_LIMIT = token_cache.ledger().requests(
        record.pk, int(time.time() // 60)
    )  # reached
    assert _call(app, "/api/v1/tokens/fs-slow", auth)[0].startswith("429")
    settings.TOKEN_API_RATE_LIMIT = 1000
    assert django.calls == calls + 1
    client_key_revoke(key=record, by=None)
    assert _call(app, "/api/v1/tokens/fs-slow", auth)[0].startswith("401")
    assert django.calls == calls + 2
    settings.SECURE_SSL_REDIRECT = True  # plain HTTP is redirected, by Django
    app, django = _token_api()
    assert _call(app, "/api/v1/tokens/fs-slow", auth)[0].startswith("301")
    assert django.calls == 1


def test_the_handler_leaves_the_threads_urlconf_as_it_found_it(token_credential, client_key):
    from django.urls import get_urlconf, reverse

    from apps.core.handlers import token_api_handler

    credential, _ = token_credential(slug="fs-urlconf")
    _, key = client_key(credential)
    seen = {}
    response = token_api_handler()(
        _environ("/api/v1/tokens/fs-urlconf", {"Authorization": f"Bearer {key}"}),
        lambda status, headers, exc_info=None: seen.setdefault("status", status),
    )
    assert seen["status"].startswith("200") and b"access_token" in b"".join(response)
    # Not closed, as a caller may leave it: the next reverse on this thread is the site's.
    assert get_urlconf() is None
    assert reverse("tokens:detail", args=[credential.slug]).startswith("/")


def test_a_users_token_is_answered_before_django_as_django_would(
    live_server, token_credential, client_key
):
    from tests.tokens.test_user_grants import connect

    if 60 - time.time() % 60 < 5:
        time.sleep(5)
    credential, _ = token_credential(slug="fs-user-fast")
    grant = connect(credential)
    record, key = client_key(credential, user_tokens=True)
    app, django = _token_api()
    path = f"/api/v1/tokens/fs-user-fast/users/{grant.user_id}"
    auth = {"Authorization": f"Bearer {key}"}
    status, through_django, body = _call(app, path, auth)  # the entries reach Redis
    assert status.startswith("200") and django.calls == 1
    status, fast, fast_body = _call(app, path, auth)
    assert status.startswith("200") and django.calls == 1  # answered before Django
    assert _without_id(fast) == _without_id(through_django)
    assert json.loads(fast_body) | {"expires_in": 0} == json.loads(body) | {"expires_in": 0}
    assert json.loads(fast_body)["access_token"] == grant.access_token()
    # Not this path: another user, a sub-path, a refresh (POST) all go to Django.
    assert _call(app, "/api/v1/tokens/fs-user-fast/users/ou_nobody", auth)[0].startswith("404")
    assert _call(app, path + "/refresh", auth)[0].startswith("405")
    assert django.calls == 3
    minute = int(time.time() // 60)
    assert token_cache.ledger().requests(record.pk, minute) == 2  # each hand-out counted once
