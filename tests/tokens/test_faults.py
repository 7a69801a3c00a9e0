"""The token centre under a failing platform: one attempt per backoff window whoever asks,
the daily cap charged only with tokens the platform issued, a failed compare-and-refresh
answered as a failure with the platform's error and Retry-After, one code for a cap."""

from __future__ import annotations

import json

import pytest
import requests
from django.utils import timezone

from apps.sandbox.models import SandboxFault
from apps.tokens.models import AccessToken
from apps.tokens.services import TokenUnavailable, token_current, token_refresh

pytestmark = pytest.mark.django_db(transaction=True)


def _outage(remaining: int = 1000) -> SandboxFault:
    return SandboxFault.objects.create(
        provider="feishu",
        path_prefix="/open-apis/auth",
        kind=SandboxFault.Kind.STATUS,
        value=503,
        remaining=remaining,
    )


def _attempts(fault: SandboxFault, remaining: int = 1000) -> int:
    fault.refresh_from_db()
    return remaining - fault.remaining


def test_an_outage_costs_one_attempt_per_backoff_window_whoever_asks(
    live_server, token_credential, client_key, settings
):
    settings.TOKEN_BACKOFF_BASE = 60.0  # the whole test runs inside the first window
    credential, _ = token_credential(slug="fs-outage")
    _, key = client_key(credential)
    first = token_current(credential=credential).token
    AccessToken.objects.filter(credential=credential).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=5)
    )  # it has run out
    fault = _outage()
    api = f"{live_server.url}/api/v1/tokens/fs-outage"
    headers = {"Authorization": f"Bearer {key}"}
    answers = [requests.get(api, headers=headers, timeout=20) for _ in range(10)]
    answers += [
        requests.post(
            f"{api}/refresh",
            headers=headers,
            timeout=20,
            data=json.dumps({"rejected_token": first}),
        )
        for _ in range(10)
    ]
    for reason in ("scheduled", "manual", "console"):
        with pytest.raises(TokenUnavailable):
            token_refresh(credential_id=credential.pk, force=True, reason=reason)
    assert _attempts(fault) == 1  # one upstream attempt for 23 callers
    assert {a.status_code for a in answers} <= {502, 503}
    assert all(a.headers.get("Retry-After") for a in answers)
    row = AccessToken.objects.get(credential=credential)
    assert row.fetches_today == 1  # the one token issued before; failed attempts are free


def test_a_failed_compare_and_refresh_is_an_error_not_the_rejected_token(
    live_server, token_credential, client_key
):
    credential, _ = token_credential(slug="fs-cas")
    _, key = client_key(credential)
    current = token_current(credential=credential).token  # still valid for two hours
    _outage()
    reply = requests.post(
        f"{live_server.url}/api/v1/tokens/fs-cas/refresh",
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
        data=json.dumps({"rejected_token": current}),
    )
    assert reply.status_code == 502, reply.text
    body = reply.json()
    assert body["error"]["code"] == "upstream_failed" and "access_token" not in body
    assert body["error"]["platform"]["classification"] == "retryable"
    assert int(reply.headers["Retry-After"]) >= 1
    assert current not in reply.text
    # Asked again inside the backoff window: the same answer, and no second attempt.
    again = requests.post(
        f"{live_server.url}/api/v1/tokens/fs-cas/refresh",
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
        data=json.dumps({"rejected_token": current}),
    )
    assert again.status_code == 503 and again.json()["error"]["code"] == "backing_off"
    # A caller that names no rejected token still gets the valid current one.
    ok = requests.get(
        f"{live_server.url}/api/v1/tokens/fs-cas",
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )
    assert ok.status_code == 200 and ok.json()["access_token"] == current


def test_a_cap_is_reported_with_one_code_and_an_admin_can_override_it(
    live_server, token_credential, client_key, client_as
):
    credential, _ = token_credential("wechat", slug="wx-cap")
    _, key = client_key(credential)
    AccessToken.objects.create(
        credential=credential, fetch_day=timezone.localdate(), fetches_today=2000
    )  # WeChat's documented 2000 a day
    api = f"{live_server.url}/api/v1/tokens/wx-cap"
    headers = {"Authorization": f"Bearer {key}"}
    codes = [
        requests.get(api, headers=headers, timeout=20).json()["error"]["code"] for _ in range(3)
    ]
    assert codes == ["quota_exhausted"] * 3
    admin = client_as("admin")
    admin.post("/tokens/wx-cap/cap-reset/", {"confirm": "yes"})
    assert requests.get(api, headers=headers, timeout=20).status_code == 200
    from apps.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="token.cap_reset", target_id="wx-cap").exists()


def test_ten_token_lifetimes_of_outage_at_ten_requests_a_second(
    live_server, token_credential, client_key, settings
):
    """The platform is down for ten token lifetimes while business servers ask ten times a
    second: the attempts follow the backoff (a handful, not hundreds) and the daily cap is
    charged with nothing they did not get."""
    import time

    settings.TOKEN_BACKOFF_BASE, settings.TOKEN_BACKOFF_MAX = 1.0, 60.0
    credential, app = token_credential(slug="fs-long-outage", token_lifetime=2, reissue_window=2)
    _, key = client_key(credential)
    token_current(credential=credential)
    issued = AccessToken.objects.get(credential=credential).fetches_today
    fault = _outage(remaining=10_000)
    api = f"{live_server.url}/api/v1/tokens/fs-long-outage"
    headers = {"Authorization": f"Bearer {key}"}
    statuses, deadline = [], time.monotonic() + 20  # ten lifetimes of 2 s
    while time.monotonic() < deadline:
        started = time.monotonic()
        statuses.append(requests.get(api, headers=headers, timeout=20).status_code)
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
    attempts = _attempts(fault, 10_000)
    assert len(statuses) >= 100 and set(statuses) <= {200, 502, 503}
    # 1, 2, 4, 8, 16 s windows (each × 0.5–1.0): at most a handful of attempts in 20 s.
    assert 2 <= attempts <= 10, attempts
    assert AccessToken.objects.get(credential=credential).fetches_today == issued
