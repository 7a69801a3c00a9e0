"""User grants beyond Feishu: DingTalk's user tokens (its code flow, camelCase token endpoint
and users/me) and WeCom, whose sign-in code gives only an identity."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from apps.audit.models import AuditEvent
from apps.audit.services import Actor
from apps.providers.base import Classification, ProviderError
from apps.sandbox import oauth
from apps.tokens.grants import authorisation_start, grant_connect, grant_refresh, identify
from apps.tokens.models import UserGrant

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT = "http://127.0.0.1:9/tokens/oauth/callback"
ADMIN = Actor.system("test")


def consent(url: str, user: str) -> str:
    """What the user's browser does on the emulated platform's page: the code it brings back."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and user in page.text
    reply = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "user": user, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302, reply.text
    back = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert back["state"] == [query["state"]]
    return back["code"][0]


def connect_dingtalk(credential, user: str = "dtunion0001") -> UserGrant:
    started = authorisation_start(credential=credential, redirect_uri=REDIRECT)
    code = consent(started.url, user)
    return grant_connect(
        credential=credential, code=code, redirect_uri=REDIRECT, code_verifier="", actor=ADMIN
    )


def test_dingtalk_authorise_url_is_the_platforms(live_server, token_credential):
    credential, app = token_credential("dingtalk", slug="ding-people")
    url = authorisation_start(credential=credential, redirect_uri=REDIRECT).url
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith("/oauth2/auth")
    assert query["client_id"] == [app.app_id] and query["response_type"] == ["code"]
    assert query["scope"] == ["openid corpid"] and query["prompt"] == ["consent"]
    assert "code_challenge" not in query  # DingTalk documents no PKCE


def test_dingtalk_user_is_connected_and_refreshed_with_rotation(live_server, token_credential):
    credential, app = token_credential("dingtalk", slug="ding-people")
    grant = connect_dingtalk(credential)
    assert grant.user_id == "dtunion0001" and grant.name == "钉钉用户1"
    assert grant.refreshable and grant.refresh_expires_at is None  # the reply does not say
    first_refresh = grant.refresh_token()
    refreshed = grant_refresh(grant_id=grant.pk, force=True)
    assert refreshed.version == grant.version + 1
    assert refreshed.refresh_token() != first_refresh
    assert oauth.refreshes(app, "dtunion0001") == 1
    # The token works on a business API that accepts user tokens.
    reply = requests.get(
        credential.effective_base_url + "/v1.0/contact/users/me",
        headers={"x-acs-dingtalk-access-token": refreshed.access_token()},
        timeout=10,
    )
    assert reply.json()["unionId"] == "dtunion0001"


def test_dingtalk_reused_code_is_refused_as_final(live_server, token_credential):
    credential, _ = token_credential("dingtalk", slug="ding-people")
    started = authorisation_start(credential=credential, redirect_uri=REDIRECT)
    code = consent(started.url, "dtunion0002")
    grant_connect(
        credential=credential, code=code, redirect_uri=REDIRECT, code_verifier="", actor=ADMIN
    )
    with pytest.raises(ProviderError) as refused:
        grant_connect(
            credential=credential, code=code, redirect_uri=REDIRECT, code_verifier="", actor=ADMIN
        )
    assert refused.value.decoded.code == "invalidParameter.authCode.notFound"
    assert refused.value.decoded.classification is Classification.GRANT_INVALID


def test_dingtalk_refusal_without_public_evidence_does_not_end_the_grant(
    live_server, token_credential
):
    """No public source quotes DingTalk's refusal of a spent refresh token: the grant is kept
    (backing off, the error shown), never thrown away on a guess."""
    credential, app = token_credential("dingtalk", slug="ding-people")
    grant = connect_dingtalk(credential)
    oauth.revoke_user(app, "dtunion0001")
    kept = grant_refresh(grant_id=grant.pk, force=True)  # the old token is still valid
    assert kept.state == UserGrant.State.HEALTHY and kept.failures == 1
    assert kept.last_error["code"] == "invalidParameter.refreshToken.notFound"
    assert kept.access_token() == grant.access_token()


def test_wecom_sign_in_code_gives_an_identity_and_nothing_is_kept(live_server, token_credential):
    credential, app = token_credential("wecom", slug="wecom-people")
    assert credential.platform.user_oauth.identity_only
    url = authorisation_start(credential=credential, redirect_uri=REDIRECT).url
    query = parse_qs(urlsplit(url).query)
    assert query["login_type"] == ["CorpApp"] and query["appid"] == [app.app_id]
    code = consent(url, "member01")
    who = identify(credential=credential, code=code, actor=ADMIN)
    assert who.user_id == "member01"
    assert not UserGrant.objects.exists()
    event = AuditEvent.objects.get(action="user_identity.verify")
    assert event.details["user_id"] == "member01"
    with pytest.raises(ProviderError) as reused:  # a code works once
        identify(credential=credential, code=code, actor=ADMIN)
    assert reused.value.decoded.code == "40029"
    # As WeCom answers a code redeemed twice (tests/captures/wecom.json: weixin-java-tools#223)
    assert reused.value.decoded.message.startswith("invalid code")
