from __future__ import annotations

import re

import pytest

from apps.audit.models import AuditEvent
from apps.providers.registry import get_provider
from apps.sandbox.models import SandboxToken
from apps.sandbox.services import sandbox_app_register
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db(transaction=True)


def _credential(users, live_server, provider, secret_override=None, slug="c1"):
    app, secret = sandbox_app_register(provider=provider, app_id=f"app-{provider}")
    platform = get_provider(provider)
    values = platform.sample_values(app.app_id, secret_override or secret)
    secrets = {k: v for k, v in values.items() if k in platform.secret_fields}
    public = {k: v for k, v in values.items() if k not in platform.secret_fields}
    return credential_create(
        by=users.admin,
        provider=provider,
        name=provider,
        slug=slug,
        environment="test",
        base_url=f"{live_server.url}/sandbox/{provider}",
        public=public,
        secrets=secrets,
    )


def test_feishu_connection_succeeds_with_a_logid_and_no_token_on_the_page(
    client_as, users, live_server
):
    _credential(users, live_server, "feishu")
    response = client_as("admin").post("/credentials/c1/test/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-testid="test-ok"' in html
    logid = re.search(r'data-testid="trace-id">([^<]+)<', html).group(1)
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", logid)
    assert "t-g1" not in html  # the token is never shown
    assert SandboxToken.objects.count() == 1
    event = AuditEvent.objects.get(action="credential.test")
    assert event.outcome == "success" and event.details["trace_id"] == logid
    # The token it fetched is the credential's current token now, counted like any fetch.
    from apps.tokens.models import AccessToken
    from apps.tokens.services import token_current

    held = AccessToken.objects.get(credential__slug="c1")
    assert (held.version, held.fetches_today) == (1, 1)
    assert AuditEvent.objects.get(action="token.refresh").details["reason"] == "test"
    token_current(credential=held.credential)  # served, not fetched again
    assert SandboxToken.objects.count() == 1


def test_wrong_secret_shows_the_platform_code_and_explanation(client_as, users, live_server):
    _credential(users, live_server, "feishu", secret_override="wrong-secret")
    html = client_as("admin").post("/credentials/c1/test/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="test-failed"' in html and "10015" in html
    assert "app_secret 错误" in html and "Wrong app_secret" in html
    assert AuditEvent.objects.get(action="credential.test").outcome == "failure"
    # The token page says so too, instead of "not fetched yet / no error".
    token_page = client_as("admin").get("/tokens/c1/").content.decode()
    assert "10015" in token_page and "app_secret 错误" in token_page
    from apps.tokens.models import AccessToken

    held = AccessToken.objects.get(credential__slug="c1")
    assert held.last_error["reason"] == "test" and not held.blocked_reason


def test_static_key_platform_makes_its_cheapest_call(client_as, users, live_server):
    _credential(users, live_server, "flashduty")
    html = client_as("admin").post("/credentials/c1/test/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="test-ok"' in html and "body:request_id" in html
