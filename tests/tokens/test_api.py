from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import fingerprint
from apps.sandbox.core import fetches
from apps.tokens.models import ClientKey, HandoutCount
from apps.tokens.services import client_key_revoke, handouts_audit

pytestmark = pytest.mark.django_db(transaction=True)


def _get(live_server, slug, key=None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(
        f"{live_server.url}/api/v1/tokens/{slug}", headers=headers, timeout=20, **kwargs
    )


def _refresh(live_server, slug, key, body=None):
    return requests.post(
        f"{live_server.url}/api/v1/tokens/{slug}/refresh",
        headers={"Authorization": f"Bearer {key}"},
        data=json.dumps(body) if body is not None else None,
        timeout=30,
    )


def test_get_returns_the_contract_and_fetches_once(live_server, token_credential, client_key):
    credential, app = token_credential()
    _, key = client_key(credential)
    first = _get(live_server, "feishu-main", key)
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {
        "credential",
        "provider",
        "token_type",
        "access_token",
        "expires_at",
        "expires_in",
        "version",
    }
    assert body["credential"] == "feishu-main" and body["provider"] == "feishu"
    assert body["token_type"] == "tenant_access_token" and body["access_token"].startswith("t-")
    assert 7100 < body["expires_in"] <= 7200 and body["version"] == 1
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["X-Request-ID"]
    second = _get(live_server, "feishu-main", key).json()
    assert second["access_token"] == body["access_token"]
    assert fetches("feishu", app.app_id) == 1
    assert ClientKey.objects.get().last_used_at is None  # until its minute is moved
    handouts_audit(before=timezone.now() + timedelta(minutes=2))
    assert ClientKey.objects.get().last_used_at is not None


@pytest.mark.parametrize("case", ["missing", "wrong", "revoked", "expired"])
def test_bad_keys_get_401_with_a_request_id(live_server, token_credential, client_key, case):
    credential, _ = token_credential()
    record, key = client_key(credential)
    if case == "missing":
        key = None
    elif case == "wrong":
        key = key[:-4] + "AAAA"
    elif case == "revoked":
        client_key_revoke(key=record, by=None)
    else:
        ClientKey.objects.filter(pk=record.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    response = _get(live_server, "feishu-main", key)
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized" and body["request_id"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "access_token" not in body


def test_scope_and_unknown(live_server, token_credential, client_key):
    mine, _ = token_credential(slug="mine")
    other, _ = token_credential(slug="other")
    _, key = client_key(mine)
    assert _get(live_server, "other", key).status_code == 403
    assert _get(live_server, "nope", key).status_code == 404
    assert _get(live_server, "mine", key).status_code == 200


def test_compare_and_refresh(live_server, token_credential, client_key):
    credential, app = token_credential(reissue_window=7201)  # every fetch issues a new token
    _, key = client_key(credential)
    old = _get(live_server, "feishu-main", key).json()
    new = _refresh(live_server, "feishu-main", key, {"rejected_token": old["access_token"]})
    assert new.status_code == 200
    assert new.json()["version"] == 2 and new.json()["access_token"] != old["access_token"]
    # A second server reporting the same (old) token gets the newer one, without a fetch.
    again = _refresh(live_server, "feishu-main", key, {"rejected_token": old["access_token"]})
    assert again.json()["version"] == 2
    assert fetches("feishu", app.app_id) == 2
    assert _refresh(live_server, "feishu-main", key, {"rejected_token": 5}).status_code == 400


def test_client_keys_and_tokens_are_not_stored_in_plain_text(
    live_server, token_credential, client_key
):
    credential, _ = token_credential()
    _, key = client_key(credential)
    token = _get(live_server, "feishu-main", key).json()["access_token"]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            dump = repr(cursor.fetchall())
            assert key not in dump and token not in dump, table
    event = AuditEvent.objects.get(action="token.refresh")
    assert event.secret_fingerprints == {"token": fingerprint(token)}
    assert AuditEvent.objects.get(action="client_key.create").secret_fingerprints == {
        "client_key": fingerprint(key)
    }


def test_handouts_are_counted_and_audited_per_minute(live_server, token_credential, client_key):
    credential, _ = token_credential()
    record, key = client_key(credential)
    for _ in range(5):
        assert _get(live_server, "feishu-main", key).status_code == 200
    assert handouts_audit(before=timezone.now() + timedelta(minutes=2)) >= 1
    assert sum(HandoutCount.objects.values_list("count", flat=True)) == 5
    events = AuditEvent.objects.filter(action="token.handout")
    assert sum(e.details["count"] for e in events) == 5
    assert {e.actor_id for e in events} == {str(record.pk)}
    assert handouts_audit(before=timezone.now() + timedelta(minutes=2)) == 0  # once only
    assert sum(HandoutCount.objects.values_list("count", flat=True)) == 5


def test_handouts_without_a_shared_cache_are_counted_in_the_database(
    live_server, token_credential, client_key, settings
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    credential, _ = token_credential()
    _, key = client_key(credential)
    for _ in range(3):
        assert _get(live_server, "feishu-main", key).status_code == 200
    assert sum(HandoutCount.objects.values_list("count", flat=True)) == 3
    handouts_audit(before=timezone.now() + timedelta(minutes=2))
    assert sum(e.details["count"] for e in AuditEvent.objects.filter(action="token.handout")) == 3


def test_per_key_rate_limit(live_server, token_credential, client_key, settings):
    settings.TOKEN_API_RATE_LIMIT = 3
    credential, _ = token_credential()
    _, key = client_key(credential)
    if 60 - time.time() % 60 < 3:  # the calls fall in one minute's window
        time.sleep(3)
    codes = [_get(live_server, "feishu-main", key).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = _get(live_server, "feishu-main", key)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_openapi_document(client):
    """Every route of the token API is in the document."""
    import re

    from apps.tokens import api_urls

    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    names = {"slug": "credential", "user_id": "user_id", "kind": "kind"}
    for route in api_urls.urlpatterns:
        if route.name == "api-openapi":
            continue
        path = "/" + re.sub(r"<\w+:(\w+)>", lambda m: f"{{{names[m[1]]}}}", str(route.pattern))
        assert path in doc["paths"], path


def test_every_503_says_when_to_come_back(live_server, token_credential, client_key):
    from apps.vault.services import credential_set_enabled

    credential, _ = token_credential(slug="fs-disabled-503")
    _, key = client_key(credential)
    credential_set_enabled(credential=credential, enabled=False, by=None)
    for answer in (
        _get(live_server, credential.slug, key),
        _refresh(live_server, credential.slug, key),
    ):
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "disabled"
        assert int(answer.headers["Retry-After"]) >= 1
