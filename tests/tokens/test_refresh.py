from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.sandbox.core import fetches
from apps.sandbox.models import SandboxFault
from apps.tokens import tasks
from apps.tokens.models import AccessToken
from apps.tokens.selectors import credentials_due
from apps.tokens.services import TokenUnavailable, plan_refresh, token_current, token_refresh
from apps.vault.services import credential_update

pytestmark = pytest.mark.django_db(transaction=True)


def _due_ids(until):
    return [pk for pk, _planned in credentials_due(until)]


def _reject(live_server, slug: str, key: str, token: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/api/v1/tokens/{slug}/refresh",
        headers={"Authorization": f"Bearer {key}"},
        data=json.dumps({"rejected_token": token}),
        timeout=60,
    )


def test_fifty_concurrent_refreshes_share_one_upstream_fetch(
    live_server, token_credential, client_key
):
    # The default bound on waiters (a few threads per process for a *slow* fetch) leaves
    # every caller of a fetch that answers in 100 ms waiting for it: fifty answers of 200.
    credential, app = token_credential(slug="feishu-fifty", reissue_window=7201)
    _, key = client_key(credential)
    first = token_current(credential=credential)
    # Slow the platform down so that every caller arrives while the fetch is in flight.
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=100
    )

    def call(_):
        return requests.post(
            f"{live_server.url}/api/v1/tokens/feishu-fifty/refresh",
            headers={"Authorization": f"Bearer {key}"},
            data=json.dumps({"rejected_token": first.token}),
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(call, range(50)))
    assert [r.status_code for r in responses] == [200] * 50, responses[0].text
    versions = {r.json()["version"] for r in responses}
    tokens = {r.json()["access_token"] for r in responses}
    assert versions == {2} and len(tokens) == 1 and first.token not in tokens
    assert fetches("feishu", app.app_id) == 2  # the first token, then exactly one more
    row = AccessToken.objects.get(credential=credential)
    assert row.lease_owner == "" and row.lease_until is None


def test_a_token_the_platform_reissues_is_fetched_once_for_ten_sequential_rejections(
    live_server, token_credential, client_key
):
    # Feishu hands back the same token while more than 30 minutes of it remain (the sandbox's
    # default): the first rejection makes one fetch, which says the platform kept the token;
    # the nine after it are answered with that result, no fetch, no new version.
    credential, app = token_credential(slug="feishu-reissue")
    _, key = client_key(credential)
    first = token_current(credential=credential)
    answers = [_reject(live_server, credential.slug, key, first.token) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10, answers[0].text
    bodies = [a.json() for a in answers]
    assert {b["access_token"] for b in bodies} == {first.token}
    assert {b["version"] for b in bodies} == {2} and all(b["reissued"] for b in bodies)
    assert fetches("feishu", app.app_id) == 2  # the first token, and the one answer
    event = AuditEvent.objects.filter(action="token.refresh", outcome="success").latest("seq")
    assert event.details["reissued"] is True and event.details["answered_rejection"] is True
    assert AuditEvent.objects.filter(action="token.refresh").count() == 2


def test_fifty_concurrent_rejections_of_a_reissued_token_make_one_fetch(
    live_server, token_credential, client_key
):
    credential, app = token_credential(slug="feishu-reissue-50")
    _, key = client_key(credential)
    first = token_current(credential=credential)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=100
    )
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda _: _reject(live_server, credential.slug, key, first.token), range(50))
        )
    assert [a.status_code for a in answers] == [200] * 50, answers[0].text
    assert {(a.json()["version"], a.json()["reissued"]) for a in answers} == {(2, True)}
    assert fetches("feishu", app.app_id) == 2


def test_a_rejection_window_closes_and_the_next_rejection_fetches_again(
    live_server, token_credential, client_key
):
    credential, app = token_credential(slug="feishu-reissue-window")
    _, key = client_key(credential)
    first = token_current(credential=credential)
    assert _reject(live_server, credential.slug, key, first.token).json()["reissued"] is True
    # Past the window (the platform would now issue a new token): one more fetch.
    AccessToken.objects.filter(credential=credential).update(rejection_until=timezone.now())
    app.reissue_window = 7201
    app.save()
    again = _reject(live_server, credential.slug, key, first.token).json()
    assert again["reissued"] is False and again["access_token"] != first.token
    assert fetches("feishu", app.app_id) == 3
    # Naming a token the platform already replaced fetches nothing.
    assert _reject(live_server, credential.slug, key, first.token).json()["version"] == 3
    assert fetches("feishu", app.app_id) == 3


def test_a_slow_fetch_keeps_few_threads_waiting_and_every_503_says_when_to_retry(
    live_server, token_credential, client_key, settings
):
    settings.TOKEN_WAIT_FAST = 0.3
    settings.TOKEN_MAX_WAITERS = 2
    credential, app = token_credential(slug="feishu-slow-herd", reissue_window=7201)
    _, key = client_key(credential)
    first = token_current(credential=credential)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=2500, remaining=1
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: _reject(live_server, credential.slug, key, first.token), range(8))
        )
    statuses = sorted(a.status_code for a in answers)
    # The fetch holder and the two long waiters get the new token; the rest were let go
    # after the fast window, each told when to come back.
    assert statuses.count(200) == 3 and statuses.count(503) == 5, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["error"]["code"] == "refresh_in_progress"
            assert 1 <= int(answer.headers["Retry-After"]) <= 5
    assert fetches("feishu", app.app_id) == 2


def test_waiting_on_a_dead_holders_lease_answers_503_with_retry_after(
    live_server, token_credential, client_key, settings
):
    settings.TOKEN_WAIT_MAX = 1.0
    credential, _ = token_credential(slug="feishu-dead-holder", reissue_window=7201)
    _, key = client_key(credential)
    first = token_current(credential=credential)
    # A holder that died mid-fetch: its lease runs for another 20 seconds.
    AccessToken.objects.filter(credential=credential).update(
        lease_owner="dead-host:1", lease_until=timezone.now() + timedelta(seconds=20)
    )
    answer = _reject(live_server, credential.slug, key, first.token)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "refresh_timeout"
    assert 15 <= int(answer.headers["Retry-After"]) <= 20


def test_upstream_5xx_keeps_serving_the_old_token_and_backs_off(live_server, token_credential):
    credential, app = token_credential(reissue_window=7201)
    served = token_current(credential=credential)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="status", value=503
    )
    row = token_refresh(credential_id=credential.pk, force=True, reason="manual")
    assert row.value() == served.token and row.version == 1
    assert row.failures == 1 and row.retry_at > timezone.now()
    assert row.last_error["classification"] == "retryable"
    failure = AuditEvent.objects.get(action="token.refresh", outcome="failure")
    assert failure.details["problem"] == "html" or failure.details["code"] is None
    # Scheduled refreshes wait for the back-off instead of hammering the platform.
    AccessToken.objects.filter(pk=row.pk).update(refresh_at=timezone.now())
    assert credential.pk not in _due_ids(timezone.now())
    SandboxFault.objects.all().delete()
    AccessToken.objects.filter(pk=row.pk).update(retry_at=timezone.now())
    assert token_refresh(credential_id=credential.pk, reason="scheduled").version == 2


def test_timeout_is_a_retryable_failure(live_server, token_credential, settings):
    settings.TOKEN_FETCH_TIMEOUT = 0.5
    credential, _ = token_credential()
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=1500, remaining=1
    )
    started = time.monotonic()
    with pytest.raises(TokenUnavailable) as excinfo:
        token_refresh(credential_id=credential.pk, reason="on_demand")
    assert time.monotonic() - started < 3
    assert excinfo.value.code == "upstream_failed"
    row = AccessToken.objects.get(credential=credential)
    assert row.last_error["problem"] == "network:timeout" and row.retry_at is not None
    # The emulator is still serving the abandoned request: let it finish inside this test,
    # or it would count a fetch against the next test's app.
    time.sleep(1.2)


def test_wrong_secret_stops_retrying_until_the_credential_changes(live_server, token_credential):
    credential, app = token_credential(secret="not-the-secret")
    with pytest.raises(TokenUnavailable) as excinfo:
        token_refresh(credential_id=credential.pk, reason="on_demand")
    assert excinfo.value.code == "credential_invalid"
    row = AccessToken.objects.get(credential=credential)
    assert row.blocked_reason == "credential" and row.last_error["code"] == "10015"
    AccessToken.objects.filter(pk=row.pk).update(refresh_at=timezone.now())
    assert credential.pk not in _due_ids(timezone.now() + timedelta(hours=3))
    with pytest.raises(TokenUnavailable):
        token_refresh(credential_id=credential.pk, reason="scheduled")
    assert fetches("feishu", app.app_id) == 1
    from apps.sandbox.core import app_secret

    time.sleep(0.01)
    credential_update(
        credential=credential,
        by=None,
        changes={},
        public=credential.public_values,
        secrets={"app_secret": app_secret("feishu", app.app_id)},
    )
    assert credential.pk in _due_ids(timezone.now())
    assert token_refresh(credential_id=credential.pk, reason="scheduled").version == 1


def test_platform_daily_cap_blocks_until_midnight(live_server, token_credential):
    credential, app = token_credential("itrigger", slug="it", daily_cap=1)
    served = token_current(credential=credential)
    row = token_refresh(credential_id=credential.pk, force=True, reason="manual")
    assert row.value() == served.token  # old token still served
    assert row.blocked_reason == "quota" and row.last_error["code"] == "40004"
    assert timezone.localtime(row.blocked_until).hour == 0
    token_refresh(credential_id=credential.pk, force=True, reason="manual")
    assert fetches("itrigger", app.app_id) == 2  # no third call while blocked


def test_zhongkong_counts_the_documented_daily_cap(live_server, token_credential):
    credential, app = token_credential("wechat", slug="wx")
    token_current(credential=credential)
    AccessToken.objects.filter(credential=credential).update(fetches_today=2000)
    row = token_refresh(credential_id=credential.pk, force=True, reason="manual")
    assert row.blocked_reason == "quota"
    assert fetches("wechat", app.app_id) == 1


def test_an_expired_token_is_never_served(live_server, token_credential):
    credential, _ = token_credential(token_lifetime=2)
    first = token_current(credential=credential)
    assert (first.row.expires_at - timezone.now()).total_seconds() <= 2
    time.sleep(2.2)
    second = token_current(credential=credential)
    assert second.token != first.token and second.row.expires_at > timezone.now()


def test_the_refresh_task_is_idempotent(live_server, token_credential):
    credential, app = token_credential()
    tasks.refresh(credential.pk)
    tasks.refresh(credential.pk)  # redelivered
    assert fetches("feishu", app.app_id) == 1
    assert AccessToken.objects.get(credential=credential).version == 1


def test_scan_finds_new_and_due_credentials_only(live_server, token_credential):
    fresh, _ = token_credential(slug="fresh")
    done, _ = token_credential(slug="done")
    token_refresh(credential_id=done.pk, reason="on_demand")
    static, _ = token_credential("flashduty", slug="static")
    now = timezone.now()
    assert set(_due_ids(now)) == {fresh.pk}
    AccessToken.objects.filter(credential=done).update(refresh_at=now)
    assert set(_due_ids(now)) == {fresh.pk, done.pk}


def test_refresh_is_planned_before_expiry_with_jitter():
    from apps.providers.registry import get_provider

    policy = get_provider("feishu").refresh_policy
    now = timezone.now()
    plans = {plan_refresh(policy, now, 7200) for _ in range(20)}
    assert len(plans) > 1
    for plan in plans:
        remaining = (now + timedelta(seconds=7200) - plan).total_seconds()
        assert 1500 <= remaining <= 1800  # inside Feishu's 30-minute reissue window
    short = plan_refresh(policy, now, 30)
    assert 21 <= (short - now).total_seconds() <= 22.5


def test_the_scan_enqueues_each_refresh_at_its_own_planned_time(
    live_server, token_credential, monkeypatch, settings
):
    """A scan interval coarser than the jitter must not bunch refreshes together: the scan
    looks one interval ahead and hands each refresh its own planned time."""
    settings.TOKEN_SCAN_INTERVAL = 60.0
    now = timezone.now()
    planned = {}
    for n in range(4):
        credential, _ = token_credential(slug=f"fs-jitter-{n}")
        token_current(credential=credential)
        planned[credential.pk] = now + timedelta(seconds=10 + 11 * n)
        AccessToken.objects.filter(credential=credential).update(refresh_at=planned[credential.pk])
    queued = {}
    monkeypatch.setattr(
        tasks.refresh, "apply_async", lambda args, eta: queued.__setitem__(args[0], eta)
    )
    tasks.scan_due()
    assert queued == planned  # each at its own time inside the coming interval


def test_a_scheduled_refresh_does_not_wait_for_another_callers_fetch(live_server, token_credential):
    credential, _ = token_credential(slug="fs-nowait")
    row = token_current(credential=credential).row
    AccessToken.objects.filter(pk=row.pk).update(
        lease_owner="someone-else",
        lease_until=timezone.now() + timedelta(seconds=30),
        refresh_at=timezone.now() - timedelta(seconds=1),
    )
    started = time.monotonic()
    token_refresh(credential_id=credential.pk, reason="scheduled", wait=False)
    assert time.monotonic() - started < 1  # back at once; the next scan looks again
