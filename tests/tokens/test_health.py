"""One token health, the same on every page: a credential the platform refused, whose
fetching stopped, is a failure on the overview, the token list and the credential list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.tokens.health import State, token_health
from apps.tokens.models import AccessToken
from apps.tokens.selectors import token_health_summary, token_rows
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db


def _credential(users, slug="fs-stopped", **kwargs):
    return credential_create(
        by=users.admin,
        provider="feishu",
        name=slug,
        slug=slug,
        environment="test",
        base_url="",
        public={"app_id": "cli_x"},
        secrets={"app_secret": "s-12345678"},
        **kwargs,
    )


def test_a_stopped_credential_is_a_failure_everywhere(client_as, users):
    credential = _credential(users)
    AccessToken.objects.create(
        credential=credential,
        version=0,
        blocked_reason="credential",
        last_error={"code": "99991543", "problem": "app secret"},
        last_error_at=timezone.now(),
    )
    summary = token_health_summary(token_rows(users.admin))
    assert summary["stopped"] == 1 and summary["failures"] == 1 and summary["none"] == 0
    client = client_as("admin")
    overview = client.get("/").content.decode()
    assert 'data-testid="tokens-failures">1<' in overview
    for url in ("/tokens/", "/credentials/"):
        page = client.get(url).content.decode()
        assert 'data-testid="health-stopped"' in page, url
        assert "未获取" not in page.split('data-testid="health-stopped"')[0][-300:], url


def test_each_state_from_one_definition(users):
    now = timezone.now()
    credential = _credential(users, "fs-states")
    later, earlier = now + timedelta(hours=1), now - timedelta(minutes=1)

    def state(**fields):
        return token_health(credential, AccessToken(credential=credential, **fields), now).state

    assert token_health(credential, None, now).state == State.NEVER
    assert state(version=1, expires_at=later) == State.HEALTHY
    assert state(version=1, expires_at=later, lease_until=later) == State.REFRESHING
    assert state(version=1, expires_at=later, last_error={"code": "1"}) == State.WARNING
    assert state(version=1, expires_at=earlier, last_error={"code": "1"}) == State.FAILING
    assert state(version=1, expires_at=earlier) == State.EXPIRED
    assert state(version=3, expires_at=later, blocked_reason="quota") == State.STOPPED
    credential.enabled = False
    assert token_health(credential, None, now).state == State.DISABLED


def test_a_stopped_credential_offers_its_fix_instead_of_a_refresh_that_cannot_work(
    client_as, users
):
    credential = _credential(users, "fs-fix")
    AccessToken.objects.create(
        credential=credential,
        version=0,
        blocked_reason="credential",
        last_error={"code": "99991543"},
        last_error_at=timezone.now(),
    )
    capped = _credential(users, "fs-cap")
    AccessToken.objects.create(
        credential=capped,
        version=2,
        blocked_reason="quota",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    page = client_as("admin").get("/tokens/").content.decode()
    fix = page.split('id="token-fs-fix"')[1].split("</tr>")[0]
    assert 'data-testid="fix-credential"' in fix and "/credentials/fs-fix/edit/" in fix
    assert "/tokens/fs-fix/refresh/" not in fix
    cap = page.split('id="token-fs-cap"')[1].split("</tr>")[0]
    assert 'data-testid="cap-reset"' in cap and "/tokens/fs-cap/cap-reset/" in cap
