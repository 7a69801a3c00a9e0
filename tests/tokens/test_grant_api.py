"""The token API hands out a connected user's token to a key granted user tokens only,
with compare-and-refresh; concurrent callers share one platform refresh."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apps.sandbox import oauth
from apps.tokens.models import UserGrant
from apps.tokens.tasks import refresh_grant, scan_grants
from tests.tokens.test_user_grants import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _get(live_server, path: str, key: str, **kwargs) -> requests.Response:
    method = requests.post if path.endswith("/refresh") else requests.get
    return method(
        f"{live_server.url}/api/v1/tokens/{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )


def test_a_key_granted_user_tokens_gets_the_users_token(live_server, token_credential, client_key):
    credential, app = token_credential()
    grant = connect(credential)
    _, key = client_key(credential, user_tokens=True)
    reply = _get(live_server, f"{credential.slug}/users/{grant.user_id}", key)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["access_token"] == grant.access_token()
    assert body["token_type"] == "user_access_token" and body["user_id"] == grant.user_id
    assert "refresh_token" not in reply.text and grant.refresh_token() not in reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    missing = _get(live_server, f"{credential.slug}/users/ou_nobody", key)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_key_for_app_tokens_or_other_users_is_refused(live_server, token_credential, client_key):
    credential, _ = token_credential()
    grant = connect(credential)
    _, app_only = client_key(credential)
    _, someone_else = client_key(credential, name="other", user_tokens=True, user_ids=("ou_x",))
    for key in (app_only, someone_else):
        reply = _get(live_server, f"{credential.slug}/users/{grant.user_id}", key)
        assert reply.status_code == 403 and grant.access_token() not in reply.text


def test_twenty_callers_rejecting_the_token_make_one_platform_refresh(
    live_server, token_credential, client_key
):
    credential, app = token_credential()
    grant = connect(credential)
    _, key = client_key(credential, user_tokens=True)
    seen = grant.access_token()
    path = f"{credential.slug}/users/{grant.user_id}/refresh"

    def call(_):
        return _get(live_server, path, key, json={"rejected_token": seen})

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(call, range(20)))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    tokens = {r.json()["access_token"] for r in replies}
    assert len(tokens) == 1 and seen not in tokens
    assert oauth.refreshes(app) == 1
    assert UserGrant.objects.get().state == UserGrant.State.HEALTHY


def test_a_grant_that_needs_reauthorisation_answers_409(live_server, token_credential, client_key):
    credential, app = token_credential()
    grant = connect(credential)
    oauth.revoke_user(app, grant.user_id)  # the user withdrew consent on the platform
    _, key = client_key(credential, user_tokens=True)
    reply = _get(live_server, f"{credential.slug}/users/{grant.user_id}/refresh", key)
    # The platform ended the grant; the token held is still valid, so it is what is served.
    assert reply.status_code == 200 and reply.json()["access_token"] == grant.access_token()
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.NEEDS_REAUTH
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=grant.obtained_at)
    gone = _get(live_server, f"{credential.slug}/users/{grant.user_id}", key)
    assert gone.status_code == 409
    assert gone.json()["error"]["code"] == "needs_reauthorisation"


def test_the_scan_enqueues_only_due_grants_and_the_task_is_idempotent(
    live_server, token_credential, monkeypatch
):
    from django.utils import timezone

    from apps.tokens import tasks

    queued = {}
    monkeypatch.setattr(
        tasks.refresh_grant, "apply_async", lambda args, eta: queued.__setitem__(args[0], eta)
    )
    credential, app = token_credential()
    due = connect(credential)
    connect(credential, open_id="ou_" + f"{3:032x}")  # planned in about two hours
    UserGrant.objects.filter(pk=due.pk).update(refresh_at=timezone.now())
    assert scan_grants() == 1 and list(queued) == [due.pk]
    refresh_grant(due.pk)
    refresh_grant(due.pk)  # a duplicate delivery finds it fresh
    assert oauth.refreshes(app) == 1
    assert scan_grants() == 0


def test_a_users_token_is_handed_out_from_memory_and_every_change_is_seen(
    live_server, token_credential, client_key
):
    """The same fast path as app tokens: no database once the entries are in process
    memory; a refresh, a key's revocation and a grant's revocation are seen at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.audit.services import Actor
    from apps.tokens.api import user_handout_from_memory
    from apps.tokens.grants import grant_refresh, grant_revoke
    from apps.tokens.services import client_key_revoke

    credential, _ = token_credential()
    grant = connect(credential)
    record, key = client_key(credential, user_tokens=True)
    _, other = client_key(credential, name="other-users", user_tokens=True, user_ids=["ou_x"])
    path = f"{credential.slug}/users/{grant.user_id}"
    assert _get(live_server, path, key).status_code == 200  # the entries reach Redis
    auth = f"Bearer {key}"
    user_handout_from_memory(auth, credential.slug, grant.user_id)  # ... and process memory
    with CaptureQueriesContext(connection) as queries:
        served = user_handout_from_memory(auth, credential.slug, grant.user_id)
    assert served is not None and len(queries) == 0
    assert json.loads(served)["access_token"] == grant.access_token()
    assert user_handout_from_memory(f"Bearer {other}", credential.slug, grant.user_id) is None

    fresh = grant_refresh(grant_id=grant.pk, force=True)
    assert _get(live_server, path, key).json()["access_token"] == fresh.access_token()
    assert (
        json.loads(user_handout_from_memory(auth, credential.slug, grant.user_id))["access_token"]
        == fresh.access_token()
    )

    client_key_revoke(key=record, by=None)
    assert user_handout_from_memory(auth, credential.slug, grant.user_id) is None
    _, again = client_key(credential, name="again", user_tokens=True)
    assert _get(live_server, path, again).status_code == 200
    grant_revoke(grant=UserGrant.objects.get(pk=grant.pk), actor=Actor.system("test"))
    assert user_handout_from_memory(f"Bearer {again}", credential.slug, grant.user_id) is None
    assert _get(live_server, path, again).status_code == 404
