"""The console sends as the app or as a connected user ("send as", as Feishu's API Explorer
offers): the user's token is injected, refreshed once when the platform rejects it, never
stored or shown; history and the audit say whom the call acted as."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.console.models import ConsoleCall
from apps.sandbox.models import SandboxToken
from apps.tokens.models import UserGrant
from tests.tokens.test_user_grants import connect

pytestmark = pytest.mark.django_db(transaction=True)

USER = "ou_" + f"{1:032x}"


def _as_user(user: str = USER) -> dict:
    return {
        "credential": "fs",
        "method": "GET",
        "path": "/open-apis/authen/v1/user_info",
        "query": "",
        "headers": "",
        "body": "",
        "as_user": user,
    }


def test_a_developer_sends_as_a_connected_user(client_as, feishu):
    credential, _ = feishu
    grant = connect(credential)
    client = client_as("developer")
    page = client.get("/console/?credential=fs").content.decode()
    assert 'data-testid="send-as"' in page and f'value="{USER}"' in page  # offered

    preview = client.post("/console/preview/", _as_user()).content.decode()
    assert f"&lt;user token of {USER}" in preview and grant.access_token() not in preview

    html = client.post("/console/send/", _as_user(), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="result-ok"' in html and 'data-testid="sent-as"' in html
    assert "测试用户1" in html  # the platform answered as that person
    call = ConsoleCall.objects.get()
    assert call.request_spec["as_user"] == USER
    token = grant.access_token()
    assert token not in json.dumps(call.request_spec) + call.url + json.dumps(call.request_headers)
    event = AuditEvent.objects.get(action="console.send")
    assert event.details["as_user"] == USER and token not in json.dumps(event.details)

    # The same request as the app: the app's token, which user_info refuses.
    as_app = client.post(
        "/console/send/", {**_as_user(), "as_user": ""}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="sent-as"' not in as_app and 'data-testid="result-failed"' in as_app


def test_a_rejected_user_token_is_refreshed_once_and_the_call_retried(client_as, feishu):
    credential, _ = feishu
    grant = connect(credential)
    # The platform stops honouring the user's token before Zhongkong expected it to.
    SandboxToken.objects.filter(subject=USER).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    html = (
        client_as("developer")
        .post("/console/send/", _as_user(), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'data-testid="result-ok"' in html and 'data-testid="retried"' in html
    assert UserGrant.objects.get().version == grant.version + 1  # one refresh


def test_an_unknown_user_is_a_clear_error_and_nothing_is_sent(client_as, feishu):
    credential, _ = feishu
    connect(credential)
    response = client_as("developer").post(
        "/console/send/", _as_user("ou_nobody"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "ou_nobody" in response.content.decode()
    assert not ConsoleCall.objects.exists()


def test_a_user_who_must_authorise_again_is_reported_not_sent(client_as, feishu):
    credential, _ = feishu
    connect(credential)
    UserGrant.objects.update(
        state=UserGrant.State.NEEDS_REAUTH, expires_at=timezone.now() - timedelta(seconds=1)
    )
    html = (
        client_as("developer")
        .post("/console/send/", _as_user(), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert USER in html and not ConsoleCall.objects.exists()
