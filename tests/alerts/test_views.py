"""The alerts page and channel forms: admins only, write-only secrets, addresses checked
against the platform's, a test button that says what the bot answered, and no input that
ends in a 500 (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.alerts.models import Channel, Rule
from apps.audit.models import AuditEvent
from apps.sandbox.services import sandbox_bot_messages, sandbox_bot_register
from tests.helpers import stopped_alert

pytestmark = pytest.mark.django_db(transaction=True)

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def admin(client_as):
    return client_as("admin")


def _form(**overrides):
    data = {
        "name": "On-call group",
        "kind": "feishu",
        "url": "",
        "secret": "",
        "email_to": "",
        "rules": [Rule.STOPPED, Rule.REFRESH_FAILING],
        "enabled": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("role", "status"), [("developer", 403), ("auditor", 403)])
def test_only_admins_see_alerts(client_as, role, status):
    assert client_as(role).get("/alerts/").status_code == status
    assert client_as(None).get("/alerts/").status_code == 302


def test_the_empty_page_says_what_to_do_in_both_languages(admin):
    page = admin.get("/alerts/").content.decode()
    assert "还没有告警通道" in page and "添加第一个通道" in page
    english = admin.get("/alerts/", HTTP_ACCEPT_LANGUAGE="en")
    admin.post("/i18n/setlang/", {"language": "en", "next": "/alerts/"})
    page = admin.get("/alerts/").content.decode()
    assert english.status_code == 200
    assert "No alert channels yet" in page and "Add the first channel" in page


def test_admin_adds_a_feishu_bot_and_sends_a_test_alert(admin, sandbox_origin):
    _, secret = sandbox_bot_register(platform="feishu", key="hook-from-form")
    url = sandbox_origin("feishu") + "/open-apis/bot/v2/hook/hook-from-form"
    response = admin.post("/alerts/channels/new/", _form(url=url, secret=secret))
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = Channel.objects.get()
    assert channel.secret_values() == {"url": url, "secret": secret}
    assert channel.rules == sorted([Rule.REFRESH_FAILING, Rule.STOPPED])
    page = admin.get("/alerts/").content.decode()
    assert "On-call group" in page and url not in page and secret not in page
    assert "飞书群自定义机器人" in page  # the kind and the rules it hears, by name
    assert "凭证已停止（密钥被拒或达每日上限）" in page and "令牌刷新持续失败" in page
    assert "每日获取次数达上限的 80%" not in page

    response = admin.post(f"/alerts/channels/{channel.pk}/test/", follow=True)
    assert "测试告警已送达" in response.content.decode()
    assert len(sandbox_bot_messages("feishu", "hook-from-form")) == 1

    # Editing without a new address or secret keeps both.
    response = admin.post(f"/alerts/channels/{channel.pk}/", _form(name="Renamed"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.secret_values()["secret"] == secret
    edit = admin.get(f"/alerts/channels/{channel.pk}/").content.decode()
    assert secret not in edit and url not in edit
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"alerts.channel_create", "alerts.channel_update", "alert.delivered"} <= actions


def test_a_failed_test_alert_shows_the_bots_own_error(admin, sandbox_origin):
    sandbox_bot_register(platform="feishu", key="hook-bad-secret")
    url = sandbox_origin("feishu") + "/open-apis/bot/v2/hook/hook-bad-secret"
    admin.post("/alerts/channels/new/", _form(url=url, secret="wrong-secret-value"))
    channel = Channel.objects.get()
    page = admin.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
    assert "19021" in page and "签名" in page


@pytest.mark.parametrize(
    ("kind", "url", "phrase"),
    [
        ("feishu", "https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/x", "host"),
        ("feishu", "https://open.feishu.cn/open-apis/im/v1/messages", "path"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send", "access_token"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", "key"),
        ("webhook", "http://hooks.example.com/zk", "https"),
        ("webhook", "javascript:alert(1)", ""),
        ("feishu", "", ""),
    ],
)
def test_an_address_that_is_not_the_kinds_is_refused_with_a_reason(admin, kind, url, phrase):
    response = admin.post("/alerts/channels/new/", _form(kind=kind, url=url))
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert phrase in response.content.decode()
    assert not Channel.objects.exists()


def test_email_channel_needs_valid_recipients(admin, mailoutbox):
    response = admin.post("/alerts/channels/new/", _form(kind="email", email_to="not-an-address"))
    assert "not-an-address" in response.content.decode() and not Channel.objects.exists()
    admin.post("/alerts/channels/new/", _form(kind="email", email_to="ops@example.com"))
    channel = Channel.objects.get()
    admin.post(f"/alerts/channels/{channel.pk}/test/")
    assert [m.to for m in mailoutbox] == [["ops@example.com"]]
    assert "Zhongkong" in mailoutbox[0].subject


def test_deleting_a_channel_asks_first(admin):
    admin.post("/alerts/channels/new/", _form(kind="email", email_to="ops@example.com"))
    channel = Channel.objects.get()
    asked = admin.post(f"/alerts/channels/{channel.pk}/delete/")
    assert asked.status_code == 200 and Channel.objects.exists()
    admin.post(f"/alerts/channels/{channel.pk}/delete/", {"confirm": "yes"})
    assert not Channel.objects.exists()
    assert AuditEvent.objects.filter(action="alerts.channel_delete").exists()


text = st.text(max_size=200) | st.sampled_from(
    ["\x00", "http://[::1", "https://open.feishu.cn:99999/x", "a" * 5000, "https://é.example/"]
)


@HYPOTHESIS
@given(
    name=text,
    kind=st.sampled_from(["feishu", "dingtalk", "wecom", "flashduty", "webhook", "email", "x"]),
    url=text,
    secret=text,
    email_to=text,
    rules=st.lists(st.sampled_from([*Rule.values, "bogus"]), max_size=3),
)
def test_the_channel_form_never_answers_500(admin, name, kind, url, secret, email_to, rules):
    response = admin.post(
        "/alerts/channels/new/",
        {
            "name": name,
            "kind": kind,
            "url": url,
            "secret": secret,
            "email_to": email_to,
            "rules": rules,
        },
    )
    assert response.status_code in (200, 302), response.content[:500]


def test_rotate_keys_reencrypts_alert_channels_too(settings, users):
    """Channels are sealed by the vault like credentials: a key rotation covers them."""
    from django.core.management import call_command

    from apps.alerts.services import channel_save
    from apps.core import crypto
    from apps.vault.services import ensure_key_canary

    old, new = crypto.new_key("old"), crypto.new_key("new")
    settings.FIELD_ENCRYPTION_KEYS = [old]
    ensure_key_canary()
    channel = channel_save(
        channel=None,
        by=users.admin,
        name="ops",
        kind="webhook",
        enabled=True,
        rules=[Rule.STOPPED],
        url="https://hooks.example.com/zk-rotation",
        secret="rotation-secret-value",
    )
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key gone: only re-encrypted rows read
    channel.refresh_from_db()
    assert {crypto.key_id_of(b) for b in channel.secret_blobs.values()} == {"new"}
    assert channel.secret_values() == {
        "url": "https://hooks.example.com/zk-rotation",
        "secret": "rotation-secret-value",
    }


def test_removing_the_signing_secret_and_disabling_a_channel(admin, sandbox_origin):
    """ "Remove the signing secret" leaves the bot unsigned (the signed bot then refuses
    it); a disabled channel is told nothing, though its test button still tries it."""
    from apps.alerts.models import Delivery
    from apps.alerts.services import delivery_send

    _, secret = sandbox_bot_register(platform="feishu", key="hook-unsigned")
    url = sandbox_origin("feishu") + "/open-apis/bot/v2/hook/hook-unsigned"
    admin.post("/alerts/channels/new/", _form(url=url, secret=secret))
    channel = Channel.objects.get()
    admin.post(f"/alerts/channels/{channel.pk}/", _form(clear_secret="on"))
    channel.refresh_from_db()
    assert "secret" not in channel.secret_values() and "url" in channel.secret_values()
    page = admin.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
    assert "19021" in page  # the emulated bot still asks for a signature

    admin.post(f"/alerts/channels/{channel.pk}/", _form(secret=secret, enabled=""))
    channel.refresh_from_db()
    assert channel.enabled is False
    delivery = Delivery.objects.create(alert=stopped_alert(), channel=channel, event="firing")
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    assert Delivery.objects.get(pk=delivery.pk).code == "disabled"
    assert sandbox_bot_messages("feishu", "hook-unsigned") == []
