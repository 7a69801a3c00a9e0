"""Users' grants under the platform's rules, with the emulated Feishu following them: a code
works once, a refresh token works once and the reply carries the next, only the final codes
end a grant."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import Actor
from apps.providers.base import Classification, ProviderError
from apps.sandbox import oauth
from apps.sandbox.models import SandboxFault
from apps.tokens.grants import GrantUnavailable, grant_connect, grant_refresh, grant_revoke
from apps.tokens.models import UserGrant
from tests.helpers import pkce_pair

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
REDIRECT = "http://127.0.0.1:9/tokens/oauth/callback"
ADMIN = Actor.system("test")
SCOPES = "offline_access contact:user.base:readonly"


def authorise(credential, *, open_id="ou_" + f"{1:032x}", scope=SCOPES, challenge=""):
    """What a user's browser does on the platform's authorise page: the code it brings back."""
    reply = requests.post(
        credential.effective_base_url + "/open-apis/authen/v1/authorize",
        data={
            "client_id": credential.public_values["app_id"],
            "redirect_uri": REDIRECT,
            "state": "s1",
            "scope": scope,
            "code_challenge": challenge,
            "user": open_id,
            "decision": "allow",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302, reply.text
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def connect(credential, **kwargs) -> UserGrant:
    verifier, challenge = pkce_pair()
    code = authorise(credential, challenge=challenge, **kwargs)
    return grant_connect(
        credential=credential,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        actor=ADMIN,
    )


def test_connecting_keeps_the_users_grant_sealed(live_server, token_credential):
    credential, app = token_credential()
    grant = connect(credential)
    assert grant.user_id == "ou_" + f"{1:032x}"
    assert grant.name == "测试用户1"
    assert grant.state == UserGrant.State.HEALTHY and grant.refreshable
    assert grant.access_token().startswith("u-")
    assert grant.refresh_token().startswith("ur-")
    # The refresh token's life is the one the reply gave (7 days), never assumed.
    left = (grant.refresh_expires_at - timezone.now()).total_seconds()
    assert oauth.REFRESH_LIFETIME - 60 < left <= oauth.REFRESH_LIFETIME
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_blob, access_blob FROM tokens_usergrant")
        stored = " ".join(cursor.fetchone())
    assert grant.refresh_token() not in stored and grant.access_token() not in stored
    event = AuditEvent.objects.get(action="user_grant.connect")
    assert event.details["user_id"] == grant.user_id and event.details["refreshable"] is True


def test_a_code_works_once(live_server, token_credential):
    credential, _ = token_credential()
    verifier, challenge = pkce_pair()
    code = authorise(credential, challenge=challenge)
    kwargs = dict(credential=credential, code=code, redirect_uri=REDIRECT, actor=ADMIN)
    grant_connect(code_verifier=verifier, **kwargs)
    with pytest.raises(ProviderError):
        grant_connect(code_verifier=verifier, **kwargs)
    assert UserGrant.objects.count() == 1


def test_the_emulator_refuses_a_code_as_feishu_documents_it(live_server, token_credential):
    """A forged, a spent and an expired code: the status, code, error and description of the
    replies in tests/captures/feishu.json (Feishu's documented error table and a probe)."""
    from apps.sandbox.models import SandboxAuthCode

    captured = {
        int(json.loads(c["body"])["code"]): c
        for c in json.loads((ROOT / "tests/captures/feishu.json").read_text(encoding="utf-8"))
        if "authorization code" in c["body"]
    }
    credential, _ = token_credential()
    verifier, challenge = pkce_pair()

    def exchange(code: str) -> requests.Response:
        return requests.post(
            credential.effective_base_url + "/open-apis/authen/v2/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": credential.public_values["app_id"],
                "client_secret": credential.secret_values()["app_secret"],
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            timeout=10,
        )

    spent = authorise(credential, challenge=challenge)
    assert exchange(spent).json()["code"] == 0
    late = authorise(credential, challenge=challenge)
    SandboxAuthCode.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for code, number in (("forged-code", 20003), (spent, 20065), (late, 20004)):
        reply = exchange(code)
        assert reply.status_code == captured[number]["status"]
        assert reply.json() == json.loads(captured[number]["body"])
    with pytest.raises(ProviderError) as refused:  # and the token centre reads it so
        grant_connect(
            credential=credential,
            code="forged-code",
            redirect_uri=REDIRECT,
            code_verifier=verifier,
            actor=ADMIN,
        )
    assert refused.value.decoded.code == "20003"
    assert "只能使用一次" in refused.value.decoded.explanation_zh


def test_a_code_with_the_wrong_pkce_verifier_is_refused(live_server, token_credential):
    credential, _ = token_credential()
    _, challenge = pkce_pair()
    code = authorise(credential, challenge=challenge)
    with pytest.raises(ProviderError):
        grant_connect(
            credential=credential,
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=pkce_pair()[0],
            actor=ADMIN,
        )
    assert not UserGrant.objects.exists()


def test_a_refresh_rotates_both_tokens_and_the_old_refresh_token_is_spent(
    live_server, token_credential
):
    credential, app = token_credential()
    grant = connect(credential)
    old_access, old_refresh = grant.access_token(), grant.refresh_token()
    fresh = grant_refresh(grant_id=grant.pk, force=True, reason="manual")
    assert fresh.version == grant.version + 1
    assert fresh.access_token() != old_access
    assert fresh.refresh_token() not in ("", old_refresh)
    assert oauth.use_refresh(app, old_refresh)[0] == "used"  # the platform spent it
    assert oauth.refreshes(app) == 1  # one platform refresh


def test_a_rejected_token_is_refreshed_once_and_later_callers_get_the_new_one(
    live_server, token_credential
):
    credential, app = token_credential()
    grant = connect(credential)
    seen = grant.access_token()
    first = grant_refresh(grant_id=grant.pk, rejected_token=seen, reason="passive")
    for _ in range(5):
        again = grant_refresh(grant_id=grant.pk, rejected_token=seen, reason="passive")
        assert again.access_token() == first.access_token()
    assert oauth.refreshes(app) == 1


def test_a_reply_without_a_refresh_token_keeps_the_one_held(upstream):
    grant = _held_grant(upstream)
    upstream.token_body = json.dumps(
        {"code": 0, "access_token": "u-second", "expires_in": 7200, "scope": SCOPES}
    ).encode()
    fresh = grant_refresh(grant_id=grant.pk, force=True)
    assert fresh.access_token() == "u-second"
    assert fresh.refresh_token() == "ur-held"
    assert fresh.refresh_expires_at == grant.refresh_expires_at  # its expiry unchanged


def test_the_platforms_retryable_code_is_tried_once_more_then_succeeds(upstream):
    grant = _held_grant(upstream)
    upstream.token_body = [
        json.dumps({"code": 20050, "error": "server_error", "error_description": "x"}).encode(),
        json.dumps(
            {"code": 0, "access_token": "u-after", "expires_in": 7200, "refresh_token": "ur-2"}
        ).encode(),
    ]
    fresh = grant_refresh(grant_id=grant.pk, force=True)
    assert upstream.token_calls == 2
    assert fresh.access_token() == "u-after" and fresh.refresh_token() == "ur-2"
    assert fresh.state == UserGrant.State.HEALTHY


@pytest.mark.parametrize("code", [20026, 20037, 20064, 20073])
def test_a_final_code_marks_the_grant_for_reauthorisation_and_keeps_the_old_token(upstream, code):
    grant = _held_grant(upstream)
    upstream.token_body = json.dumps(
        {"code": code, "error": "invalid_grant", "error_description": "gone"}
    ).encode()
    served = grant_refresh(grant_id=grant.pk, force=True)
    assert upstream.token_calls == 1  # a final answer is never retried
    assert served.access_token() == "u-held"  # still valid: served until it expires
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.NEEDS_REAUTH
    assert grant.last_error["classification"] == Classification.GRANT_INVALID
    assert grant.last_error["explanation_en"]  # the decoded explanation, for the page
    assert grant.refresh_token() == "ur-held"  # nothing thrown away
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    with pytest.raises(GrantUnavailable) as refused:
        grant_refresh(grant_id=grant.pk)
    assert refused.value.code == "needs_reauthorisation"
    assert upstream.token_calls == 1


def test_an_unknown_refusal_or_an_http_400_does_not_end_the_grant(upstream):
    grant = _held_grant(upstream)
    upstream.token_body = b'{"code": 99999, "error": "invalid_request"}'
    grant_refresh(grant_id=grant.pk, force=True)
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.HEALTHY
    assert grant.retry_at is not None and grant.failures == 1


def test_a_lost_reply_after_the_platform_rotated_ends_in_the_platforms_state(
    live_server, token_credential
):
    """The platform spent the refresh token and issued the next, but the reply never
    arrived: the token held is dead there. Zhongkong keeps serving the access token it has,
    backs off, and on the next try learns from the platform that the grant is gone."""
    credential, app = token_credential()
    grant = connect(credential)
    SandboxFault.objects.create(
        provider="feishu",
        path_prefix="/open-apis/authen/v2/oauth/token",
        kind=SandboxFault.Kind.LOST_REPLY,
        remaining=1,
    )
    served = grant_refresh(grant_id=grant.pk, force=True)
    assert served.access_token() == grant.access_token()
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.HEALTHY and grant.retry_at is not None
    assert oauth.refreshes(app) == 1  # the platform did rotate
    grant_refresh(grant_id=grant.pk, force=True)
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.NEEDS_REAUTH
    assert grant.last_error["code"] == "20073"


def test_without_offline_access_there_is_nothing_to_refresh(live_server, token_credential):
    credential, app = token_credential()
    grant = connect(credential, scope="contact:user.base:readonly")
    assert not grant.refreshable
    assert grant_refresh(grant_id=grant.pk).pk == grant.pk  # still valid: served
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(1))
    with pytest.raises(GrantUnavailable) as refused:
        grant_refresh(grant_id=grant.pk)
    assert refused.value.code == "needs_reauthorisation"
    assert oauth.refreshes(app) == 0


def test_revoking_forgets_the_grant_and_is_audited(live_server, token_credential):
    credential, _ = token_credential()
    grant = connect(credential)
    grant_revoke(grant=grant, actor=ADMIN)
    assert not UserGrant.objects.exists()
    assert AuditEvent.objects.filter(action="user_grant.revoke").count() == 1


def _held_grant(upstream) -> UserGrant:
    """A grant already held (connected earlier) on a credential whose platform is the fake
    upstream, which answers the token path with what the test sets."""
    from apps.vault.services import credential_create

    upstream.token_path = "/open-apis/authen/v2/oauth/token"
    credential = credential_create(
        by=None,
        provider="feishu",
        name="held",
        slug="held",
        environment="test",
        base_url=f"http://127.0.0.1:{upstream.server_port}",
        public={"app_id": "cli_held"},
        secrets={"app_secret": "s" * 32},
    )
    grant = UserGrant.objects.create(credential=credential, user_id="ou_held")
    now = timezone.now()
    UserGrant.objects.filter(pk=grant.pk).update(
        access_blob=grant.seal_access("u-held"),
        refresh_blob=grant.seal_refresh("ur-held"),
        expires_at=now + timedelta(hours=1),
        refresh_expires_at=now + timedelta(days=3),
        refresh_at=now + timedelta(minutes=50),
    )
    return UserGrant.objects.select_related("credential").get(pk=grant.pk)
