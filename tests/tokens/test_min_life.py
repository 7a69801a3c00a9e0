"""A token is not handed out with less than TOKEN_MIN_HANDOUT_LIFE left when a fetch would
renew it: the hand-out renews it first (one fetch for everyone); where the platform hands
the same token back while it is valid, it goes out with the life it honestly has."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.sandbox.core import fetches
from apps.tokens.models import AccessToken
from apps.tokens.services import token_current

pytestmark = pytest.mark.django_db(transaction=True)


def _age(credential, left: int) -> None:
    """As if the token had been issued for two hours and `left` seconds remained (the
    scheduled refresh having been missed: beat down)."""
    now = timezone.now()
    AccessToken.objects.filter(credential=credential).update(
        obtained_at=now - timedelta(seconds=7200 - left),
        expires_at=now + timedelta(seconds=left),
        refresh_at=now + timedelta(hours=1),
    )


def test_a_token_near_expiry_is_renewed_before_it_is_handed_out(
    live_server, token_credential, client_key
):
    credential, app = token_credential(slug="fs-min-life", reissue_window=7201)
    _, key = client_key(credential)
    first = token_current(credential=credential)
    _age(credential, 120)

    def get(_):
        return requests.get(
            f"{live_server.url}/api/v1/tokens/{credential.slug}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(get, range(20)))
    assert [a.status_code for a in answers] == [200] * 20, answers[0].text
    assert {a.json()["version"] for a in answers} == {2}
    assert all(a.json()["expires_in"] > 7000 for a in answers)
    assert first.token not in {a.json()["access_token"] for a in answers}
    assert fetches("feishu", app.app_id) == 2


def test_a_token_the_platform_cannot_renew_early_goes_out_with_its_honest_life(
    live_server, token_credential, client_key
):
    # WeCom hands the same token back for as long as it is valid: nothing to renew early.
    credential, app = token_credential(provider="wecom", slug="wc-min-life")
    _, key = client_key(credential)
    token_current(credential=credential)
    _age(credential, 120)
    answer = requests.get(
        f"{live_server.url}/api/v1/tokens/{credential.slug}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.json()["version"] == 1
    assert 100 <= answer.json()["expires_in"] <= 120
    assert fetches("wecom", app.app_id) == 1


def test_a_failed_renewal_serves_the_current_token_for_the_life_it_has(
    live_server, token_credential, client_key
):
    from apps.sandbox.models import SandboxFault

    credential, app = token_credential(slug="fs-min-life-down", reissue_window=7201)
    _, key = client_key(credential)
    first = token_current(credential=credential)
    _age(credential, 120)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="status", value=503
    )
    answers = [
        requests.get(
            f"{live_server.url}/api/v1/tokens/{credential.slug}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200] * 3
    assert {a.json()["access_token"] for a in answers} == {first.token}
    assert all(a.json()["expires_in"] <= 120 for a in answers)
    # One attempt, then the back-off: no fetch per hand-out.
    failures = AuditEvent.objects.filter(action="token.refresh", outcome="failure")
    assert failures.count() == 1
