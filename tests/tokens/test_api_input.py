"""The token API answers JSON with `no-store` and a 2xx or a clear 4xx to any body and any
headers: hypothesis over both, plus a body over the upload limit and JSON nested 100,000
levels deep (each used to end in Django's HTML 400 or a 500)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db(transaction=True)

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def api(token_credential, client_key):
    from django.test import Client

    credential, _ = token_credential()
    _, key = client_key(credential)
    return Client(), key


def _assert_json_answer(response):
    assert response.status_code < 500 or response.status_code in (502, 503), response.content
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    assert response["Cache-Control"] == "no-store"
    if response.status_code >= 400:
        assert response.json()["error"]["message"]


@HYPOTHESIS
@given(
    body=st.binary(max_size=500)
    | st.text(max_size=300).map(str.encode)
    | st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,
            b'{"rejected_token": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            b'{"rejected_token": 7}',
            b"null",
            b'"x"',
        ]
    )
)
def test_any_refresh_body_gets_a_json_answer(api, body):
    client, key = api
    response = client.post(
        "/api/v1/tokens/feishu-main/refresh",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    _assert_json_answer(response)


@HYPOTHESIS
@given(authorization=st.text(max_size=200), extra=st.text(max_size=100))
def test_any_authorization_header_gets_a_json_answer(api, authorization, extra):
    client, _ = api
    try:
        response = client.get(
            "/api/v1/tokens/feishu-main", HTTP_AUTHORIZATION=authorization, HTTP_X_REQUEST_ID=extra
        )
    except UnicodeEncodeError:  # the test client cannot send it; neither can an HTTP client
        return
    _assert_json_answer(response)


def test_a_body_over_the_upload_limit_gets_the_api_error(api, settings):
    client, key = api
    response = client.post(
        "/api/v1/tokens/feishu-main/refresh",
        b"{" + b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b"}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 413
    _assert_json_answer(response)
    assert response.json()["error"]["code"] == "too_large" and response.json()["request_id"]


def test_json_nested_100000_levels_is_a_bad_request(api):
    client, key = api
    response = client.post(
        "/api/v1/tokens/feishu-main/refresh",
        b"[" * 100_000 + b"]" * 100_000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    _assert_json_answer(response)


def test_whatever_fails_inside_the_api_answers_json_503(api, monkeypatch):
    from django.db import OperationalError

    from apps.tokens import services

    def database_down(**kwargs):
        raise OperationalError("connection refused")

    client, key = api
    monkeypatch.setattr(services, "token_current", database_down)
    monkeypatch.setattr(services, "token_refresh", database_down)
    for response in (
        client.get("/api/v1/tokens/feishu-main", HTTP_AUTHORIZATION=f"Bearer {key}"),
        client.post(
            "/api/v1/tokens/feishu-main/refresh",
            "",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ),
    ):
        assert response.status_code == 503
        _assert_json_answer(response)
        assert response["Retry-After"] and response.json()["error"]["code"] == "unavailable"


@pytest.fixture
def user_api(token_credential, client_key):
    from django.test import Client

    from tests.tokens.test_user_grants import connect

    credential, _ = token_credential()
    grant = connect(credential)
    _, key = client_key(credential, user_tokens=True)
    return Client(), key, credential.slug, grant.user_id


@HYPOTHESIS
@given(user_id=st.text(min_size=1, max_size=300).filter(lambda u: "/" not in u))
def test_any_user_id_refresh_gets_a_json_answer(live_server, user_api, user_id):
    from urllib.parse import quote

    client, key, slug, _ = user_api
    path = f"/api/v1/tokens/{slug}/users/{quote(user_id, safe='')}/refresh"
    response = client.post(
        path, b"", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    _assert_json_answer(response)


@HYPOTHESIS
@given(raw=st.binary(min_size=1, max_size=200).filter(lambda b: b"/" not in b))
def test_the_fast_path_takes_any_user_id_bytes(live_server, user_api, raw):
    """What a WSGI server puts in PATH_INFO (latin-1-decoded bytes) never breaks the user
    token's path in production's stack: the fast path answers or hands the request to the
    token API's own handler, which answers JSON."""
    from project.wsgi import application as app
    from tests.tokens.test_lean_handler import _call

    _, key, slug, _ = user_api
    path = f"/api/v1/tokens/{slug}/users/" + raw.decode("latin-1")
    status, headers, body = _call(app, path, {"Authorization": f"Bearer {key}"})
    assert int(status[:3]) < 500, body[:300]
    assert headers["Content-Type"].startswith("application/json")


@HYPOTHESIS
@given(
    body=st.binary(max_size=300)
    | st.fixed_dictionaries({"url": st.text(max_size=200), "kind": st.text(max_size=20)}).map(
        lambda d: __import__("json").dumps(d).encode()
    ),
    kind=st.text(min_size=1, max_size=40).filter(lambda k: "/" not in k),
)
def test_any_ticket_or_signature_request_gets_a_json_answer(live_server, api, body, kind):
    """Tickets and page signatures (the platform is the emulator, or unreachable: a JSON
    answer either way)."""
    from urllib.parse import quote

    client, key = api
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    signed = client.post(
        "/api/v1/tokens/feishu-main/jsapi-signature", body, content_type="application/json", **auth
    )
    _assert_json_answer(signed)
    ticket = client.get(f"/api/v1/tokens/feishu-main/tickets/{quote(kind, safe='')}", **auth)
    _assert_json_answer(ticket)
