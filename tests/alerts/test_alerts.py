"""Alerts end to end inside one process: channels deliver to the emulated bots (which check
what the platforms check), one alert per condition while it holds and one "recovered" when
it clears, the bots' refusals are not retried, transient failures are, every delivery is
audited, and the channel's secrets never leave the vault."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dingtalkchatbot.chatbot import DingtalkChatbot
from django.db import connection
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import Alert, Delivery, Rule
from apps.audit.models import AuditEvent
from apps.core.models import Heartbeat
from apps.sandbox.core import bot_secret
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_app_register, sandbox_bot_messages
from apps.tokens import services as tokens
from apps.tokens.models import AccessToken
from apps.vault.services import credential_update
from tests.console.test_metrics import _samples
from tests.helpers import stopped_alert

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ("feishu", "dingtalk", "wecom", "flashduty", "webhook")


def _send_all(ids):
    return [services.delivery_send(delivery_id=i) for i in ids]


@pytest.mark.parametrize("kind", KINDS)
def test_a_test_alert_reaches_each_emulated_bot(bot_channel, admin_user, kind):
    channel, key = bot_channel(kind)
    delivery = services.channel_test(channel=channel, by=admin_user)
    assert delivery.status == Delivery.Status.SENT, (delivery.code, delivery.error)
    messages = sandbox_bot_messages(kind, key)
    assert len(messages) == 1
    assert "Zhongkong" in str(messages[0])
    event = AuditEvent.objects.filter(action="alert.delivered").get()
    assert event.details["event"] == "test" and event.secret_fingerprints["webhook"]


@pytest.mark.parametrize(("kind", "code"), [("feishu", "19021"), ("dingtalk", "310000")])
def test_a_wrong_signing_secret_is_refused_as_the_platform_does_and_not_retried(
    bot_channel, kind, code
):
    channel, key = bot_channel(kind, secret="not-the-bots-secret-0000")
    delivery = Delivery.objects.create(
        alert=stopped_alert(), channel=channel, event=Delivery.Event.FIRING
    )
    assert services.delivery_send(delivery_id=delivery.pk) == Delivery.Status.FAILED
    delivery.refresh_from_db()
    assert (delivery.code, delivery.attempts) == (code, 1)
    assert "secret" in delivery.error.lower()  # the bot catalogue's explanation
    assert sandbox_bot_messages(kind, key) == []
    failed = AuditEvent.objects.get(action="alert.delivery_failed")
    assert failed.outcome == "failure" and failed.details["will_retry"] is False


def test_wecom_robot_address_with_an_unknown_key_fails_with_93000(bot_channel):
    channel, _ = bot_channel("wecom")
    channel.set_secret("url", channel.secret_values()["url"].replace("wecom-bot-0001", "nokey"))
    channel.save()
    delivery = services.channel_test(channel=channel, by=None)
    assert (delivery.status, delivery.code) == ("failed", "93000")


def test_the_widely_used_dingtalk_client_is_accepted_by_the_emulated_robot(sandbox_origin):
    """DingtalkChatbot (PyPI), unmodified, against the emulated robot: its signature passes,
    a wrong secret gets the platform's 310000."""
    from apps.sandbox.services import sandbox_bot_register

    _, secret = sandbox_bot_register(platform="dingtalk", key="sdkrobot01")
    url = sandbox_origin("dingtalk") + "/robot/send?access_token=sdkrobot01"
    assert DingtalkChatbot(url, secret=secret).send_text(msg="hello")["errcode"] == 0
    wrong = DingtalkChatbot(url, secret="SEC" + "0" * 40).send_text(msg="hello")
    assert wrong["errcode"] == 310000
    (accepted,) = sandbox_bot_messages("dingtalk", "sdkrobot01")
    assert accepted["msgtype"] == "text" and accepted["text"] == {"content": "hello"}


def _stop(credential):
    """A refresh with the credential's wrong secret: the platform refuses, fetching stops."""
    with pytest.raises(tokens.TokenUnavailable):
        tokens.token_refresh(credential_id=credential.pk, reason="manual", force=True)


def _fix(credential, app):
    _, real = sandbox_app_register(provider=app.provider, app_id=app.app_id)
    credential.refresh_from_db()
    credential_update(
        credential=credential,
        by=None,
        changes={},
        public=credential.public_values,
        secrets={"app_secret": real},
    )
    tokens.token_refresh(credential_id=credential.pk, reason="manual", force=True)


def test_a_stopped_credential_alerts_once_while_it_holds_and_recovers_once(
    bot_channel, token_credential, client
):
    credential, app = token_credential("feishu", slug="feishu-alerted", secret="wrong-secret")
    channels = {kind: bot_channel(kind) for kind in ("feishu", "flashduty", "webhook")}
    bot_channel("wecom", rules=[Rule.CAP])  # not subscribed to this rule: told nothing
    assert services.alerts_evaluate() == []

    _stop(credential)
    assert AccessToken.objects.get(credential=credential).blocked_reason == "credential"
    ids = services.alerts_evaluate()
    assert len(ids) == 3
    assert _send_all(ids) == ["sent"] * 3
    for _ in range(3):  # while it holds, nothing is repeated
        assert services.alerts_evaluate() == []
    samples = _samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())
    assert samples[("zk_alerts_open", (("rule", "stopped"),))] == 1
    firing = (("event", "firing"), ("kind", "flashduty"), ("outcome", "sent"))
    assert samples[("zk_alert_deliveries_total", firing)] >= 1

    _fix(credential, app)
    ids = services.alerts_evaluate()
    assert len(ids) == 3
    assert _send_all(ids) == ["sent"] * 3
    assert services.alerts_evaluate() == []

    for kind, (_, key) in channels.items():
        messages = sandbox_bot_messages(kind, key)
        assert len(messages) == 2, (kind, messages)
    fd = sandbox_bot_messages("flashduty", channels["flashduty"][1])
    assert [m["event_status"] for m in fd] == ["Critical", "Ok"]
    assert fd[0]["alert_key"] == fd[1]["alert_key"] == "stopped:feishu-alerted"
    hook = sandbox_bot_messages("webhook", channels["webhook"][1])
    assert [m["status"] for m in hook] == ["firing", "resolved"]
    feishu = sandbox_bot_messages("feishu", channels["feishu"][1])
    assert [m["card"]["header"]["template"] for m in feishu] == ["red", "green"]
    assert "已恢复" in feishu[1]["card"]["header"]["title"]["content"]
    assert sandbox_bot_messages("wecom", "wecom-bot-0001") == []
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    actions = list(
        AuditEvent.objects.filter(action__startswith="alert.").values_list("action", flat=True)
    )
    assert actions.count("alert.opened") == 1 and actions.count("alert.resolved") == 1
    assert actions.count("alert.delivered") == 6


def test_a_transient_failure_is_retried_and_a_refusal_is_not(bot_channel, token_credential):
    credential, _ = token_credential("feishu", slug="feishu-flaky", secret="wrong")
    channel, key = bot_channel("flashduty")
    SandboxFault.objects.create(
        provider="flashduty", path_prefix="/event/push", kind="status", value=503, remaining=1
    )
    _stop(credential)
    (delivery_id,) = services.alerts_evaluate()
    assert services.delivery_send(delivery_id=delivery_id) == "pending"  # 503: try again
    assert services.delivery_send(delivery_id=delivery_id) == "sent"
    assert Delivery.objects.get().attempts == 2
    assert len(sandbox_bot_messages("flashduty", key)) == 1
    assert services.delivery_send(delivery_id=delivery_id) == "sent"  # never sent twice
    assert len(sandbox_bot_messages("flashduty", key)) == 1


def test_attempts_stop_at_the_configured_number(bot_channel, token_credential, settings):
    settings.ALERT_DELIVERY_ATTEMPTS = 3
    credential, _ = token_credential("feishu", slug="feishu-down", secret="wrong")
    bot_channel("flashduty")
    SandboxFault.objects.create(provider="flashduty", kind="status", value=502)
    _stop(credential)
    (delivery_id,) = services.alerts_evaluate()
    assert [services.delivery_send(delivery_id=delivery_id) for _ in range(3)] == [
        "pending",
        "pending",
        "failed",
    ]
    assert AuditEvent.objects.filter(action="alert.delivery_failed").count() == 3


def test_token_rules_refresh_failing_expiring_and_cap(bot_channel, token_credential, settings):
    settings.ALERT_FAILURES = 2
    credential, _ = token_credential("wechat", slug="wechat-main")
    tokens.token_refresh(credential_id=credential.pk, reason="manual")
    row = AccessToken.objects.get(credential=credential)
    now = timezone.now()
    # Two failed refreshes with the token still valid, 5 minutes from expiry, and 80 % of
    # WeChat's documented daily cap of 2,000 fetches used.
    cap = credential.platform.refresh_policy.daily_cap
    AccessToken.objects.filter(pk=row.pk).update(
        failures=2,
        last_error={"code": "500", "message": "busy", "explanation_en": "transient"},
        retry_at=now + timedelta(seconds=40),
        expires_at=now + timedelta(minutes=5),
        fetch_day=timezone.localdate(),
        fetches_today=cap * 8 // 10,
    )
    services.alerts_evaluate()
    keys = set(Alert.objects.filter(resolved_at__isnull=True).values_list("key", flat=True))
    assert keys == {
        "refresh_failing:wechat-main",
        "expiring:wechat-main",
        "cap:wechat-main",
    }
    failing = Alert.objects.get(rule=Rule.REFRESH_FAILING)
    assert failing.severity == "warning"  # the token held is still valid
    assert "2 times" in failing.text_en and "连续失败 2 次" in failing.text_zh
    AccessToken.objects.filter(pk=row.pk).update(
        failures=0, last_error={}, expires_at=now + timedelta(hours=2), fetches_today=1
    )
    services.alerts_evaluate()
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()


def test_worker_and_beat_watch_each_other(bot_channel, settings):
    channel, key = bot_channel("feishu")
    old = timezone.now() - timedelta(seconds=settings.HEALTH_MAX_HEARTBEAT_AGE + 30)
    Heartbeat.objects.create(name="worker", at=old)
    Heartbeat.objects.create(name="beat", at=timezone.now())
    assert services.silence_check(watcher="worker") == []  # beat is fine
    ids = services.silence_check(watcher="beat")
    assert len(ids) == 1 and _send_all(ids) == ["sent"]
    assert services.silence_check(watcher="beat") == []
    Heartbeat.objects.filter(name="worker").update(at=timezone.now())
    assert _send_all(services.silence_check(watcher="beat")) == ["sent"]
    titles = [m["card"]["header"]["title"]["content"] for m in sandbox_bot_messages("feishu", key)]
    assert "worker" in titles[0] and "Recovered" in titles[1]


def test_a_worker_never_seen_is_silent_once_the_watcher_has_waited_long_enough(settings):
    now = timezone.now()
    soon = now - timedelta(seconds=settings.HEALTH_MAX_HEARTBEAT_AGE - 5)
    assert services.silence_check(watcher="beat", watching_since=soon) == []
    assert not Alert.objects.exists()
    long_ago = now - timedelta(seconds=settings.HEALTH_MAX_HEARTBEAT_AGE + 5)
    services.silence_check(watcher="beat", watching_since=long_ago)
    alert = Alert.objects.get()
    assert alert.key == "silent:worker" and "is it running" in alert.text_en


def test_a_broken_audit_chain_is_an_alert_until_it_verifies(bot_channel):
    bot_channel("webhook")
    assert services.audit_verify_alert() == []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(
                "UPDATE audit_auditevent SET details = '{\"n\": 1}' "
                "WHERE seq = (SELECT min(seq) FROM audit_auditevent)"
            )
            cursor.execute("SET session_replication_role = DEFAULT")
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET details = '{\"n\": 1}' "
                "WHERE seq = (SELECT min(seq) FROM audit_auditevent)"
            )
    ids = services.audit_verify_alert()
    assert len(ids) == 1 and _send_all(ids) == ["sent"]
    alert = Alert.objects.get(rule=Rule.AUDIT)
    assert "#1" in alert.text_en
    assert services.audit_verify_alert() == []  # still broken: no second message


def test_channel_secrets_stay_sealed(bot_channel, admin_user, client_as):
    channel, key = bot_channel("feishu", key="feishu-canary-key-7a1c9e")
    secret = bot_secret("feishu", "feishu-canary-key-7a1c9e")
    services.channel_test(channel=channel, by=admin_user)
    client = client_as("admin")
    pages = [
        client.get("/alerts/").content.decode(),
        client.get(f"/alerts/channels/{channel.pk}/").content.decode(),
        client.get("/audit/").content.decode(),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM alerts_channel")
        rows = str(cursor.fetchall())
        cursor.execute("SELECT * FROM alerts_delivery")
        rows += str(cursor.fetchall())
        cursor.execute(
            "SELECT details::text FROM audit_auditevent"
            if connection.vendor == "postgresql"
            else "SELECT details FROM audit_auditevent"
        )
        rows += str(cursor.fetchall())
    for text in [*pages, rows]:
        assert "feishu-canary-key-7a1c9e" not in text
        assert secret not in text


def test_a_delivery_whose_channel_was_deleted_is_dropped(bot_channel, admin_user):
    channel, key = bot_channel("wecom")
    delivery = Delivery.objects.create(channel=channel, event=Delivery.Event.TEST)
    services.channel_delete(channel=channel, by=admin_user)
    assert services.delivery_send(delivery_id=delivery.pk) == "gone"
    assert sandbox_bot_messages("wecom", key) == []
