"""Alerts with the real moving parts: PostgreSQL, Redis, a Celery worker and beat. A
credential's secret is wrong: the worker's scheduled refresh is refused and fetching stops;
the Feishu bot, Flashduty and the signed webhook each receive exactly one alert (one of
them after a transient 503 the worker retries), then, once the secret is fixed, exactly one
"recovered"."""

from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import Alert, Delivery, Rule
from apps.core.models import Heartbeat
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_app_register, sandbox_bot_messages, sandbox_bot_register
from apps.tokens.models import AccessToken
from apps.vault.services import credential_update
from tests.sandbox.conftest import sandbox_origin  # noqa: F401

from .conftest import wait_for

pytestmark = pytest.mark.integration

PATHS = {
    "feishu": "/open-apis/bot/v2/hook/{key}",
    "flashduty": "/event/push/alert/standard?integration_key={key}",
}


def test_a_wrong_secret_alerts_once_then_recovers_once(
    celery,
    sandbox_origin,  # noqa: F811 - the fixture imported above
    live_server,
    token_credential,
    users,  # noqa: F811
):
    credential, app = token_credential("feishu", slug="feishu-wrong", secret="not-the-secret")
    keys = {"feishu": "hook-integration", "flashduty": "ik-integration", "webhook": "rx-integ"}
    for kind, key in keys.items():
        _, secret = sandbox_bot_register(platform=kind, key=key, signed=kind != "flashduty")
        url = (
            f"{live_server.url}/sandbox/webhook/{key}"
            if kind == "webhook"
            else sandbox_origin(kind) + PATHS[kind].format(key=key)
        )
        services.channel_save(
            channel=None,
            by=users.admin,
            name=kind,
            kind=kind,
            enabled=True,
            rules=[r.value for r in Rule],
            url=url,
            secret=secret if kind != "flashduty" else "",
        )
    # Flashduty answers its first push with a bare 503: the worker tries again.
    SandboxFault.objects.create(
        provider="flashduty", path_prefix="/event/push", kind="status", value=503, remaining=1
    )
    fast = {
        "TOKEN_SCAN_INTERVAL": "1",
        "ALERT_EVALUATE_SECONDS": "1",
        "ALERT_RETRY_SECONDS": "1",
        "HEALTH_MAX_HEARTBEAT_AGE": "600",
    }
    celery.env.update(fast)
    celery.start("worker")
    celery.start("beat")

    def received(count: int) -> bool:
        return all(len(sandbox_bot_messages(k, key)) >= count for k, key in keys.items())

    assert wait_for(lambda: received(1), timeout=60), celery.output()
    assert AccessToken.objects.get(credential=credential).blocked_reason == "credential"
    # While it holds nothing is repeated: several more evaluations pass.
    open_alert = Alert.objects.get(resolved_at__isnull=True)
    seen = open_alert.last_seen_at
    assert wait_for(lambda: Alert.objects.get(pk=open_alert.pk).last_seen_at > seen, timeout=20), (
        celery.output()
    )
    for kind, key in keys.items():
        assert len(sandbox_bot_messages(kind, key)) == 1, kind

    _, real = sandbox_app_register(provider=app.provider, app_id=app.app_id)
    credential.refresh_from_db()
    credential_update(
        credential=credential,
        by=None,
        changes={},
        public=credential.public_values,
        secrets={"app_secret": real},
    )
    assert wait_for(lambda: received(2), timeout=60), celery.output()
    for kind, key in keys.items():
        assert len(sandbox_bot_messages(kind, key)) == 2, kind
    flashduty = sandbox_bot_messages("flashduty", keys["flashduty"])
    assert [m["event_status"] for m in flashduty] == ["Critical", "Ok"]
    assert {m["alert_key"] for m in flashduty} == {"stopped:feishu-wrong"}
    assert [m["status"] for m in sandbox_bot_messages("webhook", keys["webhook"])] == [
        "firing",
        "resolved",
    ]
    assert AccessToken.objects.get(credential=credential).version >= 1
    retried = Delivery.objects.get(channel__kind="flashduty", event="firing")
    assert (retried.status, retried.attempts) == ("sent", 2)


def test_worker_and_beat_tell_when_the_other_falls_silent(celery, live_server, users):
    """Beat stopped: the worker's watcher alerts (and recovers when beat is back); worker
    stopped: beat's watcher alerts itself, since no worker would send it."""
    key = "rx-silence"
    _, secret = sandbox_bot_register(platform="webhook", key=key)
    services.channel_save(
        channel=None,
        by=users.admin,
        name="on-call",
        kind="webhook",
        enabled=True,
        rules=[Rule.SILENT],
        url=f"{live_server.url}/sandbox/webhook/{key}",
        secret=secret,
    )
    celery.env.update({"ALERT_EVALUATE_SECONDS": "1", "HEALTH_MAX_HEARTBEAT_AGE": "4"})
    celery.start("worker")
    beat = celery.start("beat")

    def titles() -> list[str]:
        return [m["title"] for m in sandbox_bot_messages("webhook", key)]

    assert wait_for(lambda: Heartbeat.objects.filter(name="beat").exists(), 30), celery.output()
    beat.terminate()
    beat.wait(20)
    assert wait_for(lambda: any("beat" in t for t in titles()), 30), celery.output()
    celery.start("beat-again")
    assert wait_for(lambda: any("Recovered" in t and "beat" in t for t in titles()), 30), (
        titles(),
        celery.output(),
    )
    worker = celery.procs["worker"]
    worker.terminate()
    worker.wait(20)
    assert wait_for(lambda: any("worker" in t for t in titles()), 40), (titles(), celery.output())
    silent = Alert.objects.filter(rule=Rule.SILENT)
    assert sorted(a.subject for a in silent) == ["beat", "worker"]
    assert silent.get(subject="beat").resolved_at is not None
