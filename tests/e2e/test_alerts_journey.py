"""An admin adds a Feishu group bot as an alert channel, tries it, and sees the alerts a
stopped and a failing credential open; the overview draws token lifetimes, refreshes,
hand-outs, sends and caps for healthy, failing and stopped credentials. Screenshots in both
languages; no page scrolls sideways at 1366 px or breaks at 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import services as alerts
from apps.console.models import ConsoleCall
from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register, sandbox_bot_messages, sandbox_bot_register
from apps.tokens import services as tokens
from apps.tokens.models import AccessToken, HandoutCount
from apps.tokens.services import client_key_create
from apps.vault.services import credential_create
from tests.sandbox.conftest import sandbox_origin  # noqa: F401

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _credential(live_server, provider: str, slug: str, *, wrong: bool = False):
    app, secret = sandbox_app_register(provider=provider, app_id=f"app-{slug}")
    platform = get_provider(provider)
    values = platform.sample_values(app.app_id, "wrong-secret" if wrong else secret)
    return credential_create(
        by=None,
        provider=provider,
        name=slug,
        slug=slug,
        environment="production",
        base_url=f"{live_server.url}/sandbox/{provider}",
        public={k: v for k, v in values.items() if k not in platform.secret_fields},
        secrets={k: v for k, v in values.items() if k in platform.secret_fields},
        shared_with_developers=True,
    )


def _world(live_server):
    healthy = _credential(live_server, "feishu", "feishu-prod")
    wechat = _credential(live_server, "wechat", "wechat-mp")
    failing = _credential(live_server, "dingtalk", "dingtalk-ops")
    stopped = _credential(live_server, "feishu", "feishu-legacy", wrong=True)
    for credential in (healthy, wechat, failing):
        tokens.token_refresh(credential_id=credential.pk, reason="manual")
    with pytest.raises(tokens.TokenUnavailable):
        tokens.token_refresh(credential_id=stopped.pk, reason="manual")
    now = timezone.now()
    AccessToken.objects.filter(credential=failing).update(
        failures=4,
        last_error={"code": "-1", "message": "系统繁忙", "explanation_en": "System busy"},
        last_error_at=now,
        retry_at=now + timedelta(minutes=4),
        obtained_at=now - timedelta(hours=2, minutes=3),
        expires_at=now - timedelta(minutes=3),
    )
    AccessToken.objects.filter(credential=wechat).update(
        fetch_day=timezone.localdate(), fetches_today=1712
    )
    key, _ = client_key_create(name="order-service", credentials=[healthy, wechat])
    for hours in range(0, 20):
        minute = (now - timedelta(hours=hours)).replace(second=0, microsecond=0)
        HandoutCount.objects.create(
            client_key=key, credential=healthy, minute=minute, count=40 + 7 * (hours % 5)
        )
        HandoutCount.objects.create(client_key=key, credential=wechat, minute=minute, count=12)
    calls = []
    for i in range(30):
        calls.append(
            ConsoleCall(
                credential=healthy if i % 3 else wechat,
                method="GET",
                url="https://x/",
                ok=i % 7 != 0,
                request_spec={},
            )
        )
    ConsoleCall.objects.bulk_create(calls)
    for i, call in enumerate(ConsoleCall.objects.order_by("pk")):
        ConsoleCall.objects.filter(pk=call.pk).update(
            created_at=now - timedelta(hours=i % 12, minutes=i)
        )


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_admin_sets_up_a_bot_and_sees_alerts_and_charts(
    page,
    make_user,
    live_server,
    sandbox_origin,  # noqa: F811
):
    make_user("ada", "admin", password="a long admin passphrase")
    _world(live_server)
    _, bot_secret = sandbox_bot_register(platform="feishu", key="ops-group-bot")
    bot_url = sandbox_origin("feishu") + "/open-apis/bot/v2/hook/ops-group-bot"

    sign_in(page, "ada", "a long admin passphrase")
    page.locator("header nav").get_by_role("link", name="告警").click()
    assert "还没有告警通道" in page.content()
    page.get_by_role("button", name="添加通道").click()
    page.fill("#id_name", "运维群机器人")
    page.select_option("#id_kind", "feishu")
    page.fill("#id_url", bot_url)
    page.fill("#id_secret", bot_secret)
    screenshot(page, "alert-channel-form-zh")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/alerts/")
    assert "已保存通道“运维群机器人”" in page.content()
    assert bot_url not in page.content() and bot_secret not in page.content()
    page.get_by_role("button", name="发送测试告警").click()
    page.locator(".flash-success", has_text="测试告警已送达").wait_for()
    assert len(sandbox_bot_messages("feishu", "ops-group-bot")) == 1

    for delivery_id in alerts.alerts_evaluate():
        assert alerts.delivery_send(delivery_id=delivery_id) == "sent"
    page.reload()
    open_alerts = page.get_by_test_id("open-alerts").inner_text()
    assert "凭证已停止获取令牌：feishu-legacy" in open_alerts
    assert "令牌刷新持续失败：dingtalk-ops" in open_alerts
    deliveries = page.get_by_test_id("deliveries").inner_text()
    assert deliveries.count("已送达") >= 3
    screenshot(page, "alerts-zh")

    page.goto("/")
    assert page.get_by_test_id("tokens-failures").inner_text() == "2"
    timeline = page.get_by_test_id("token-timeline")
    assert timeline.locator(".lane").count() == 4
    assert timeline.locator(".state-stopped").count() == 1
    assert timeline.locator(".state-ok .span-planned").count() >= 10  # the next 24 h planned
    assert timeline.locator(".state-stopped .span-planned").count() == 0
    assert "1712 / 2000" in page.get_by_test_id("caps").inner_text()
    assert page.get_by_test_id("chart-handouts").locator(".bar-ok").count() >= 20
    assert page.get_by_test_id("chart-sends").locator(".bar-bad").count() >= 1
    assert page.get_by_test_id("per-platform").locator(".sparkline").count() == 4
    per_platform = page.get_by_test_id("per-platform").inner_text()
    assert "飞书开放平台" in per_platform and "微信公众号" in per_platform
    screenshot(page, "overview-zh")

    page.set_viewport_size({"width": 1366, "height": 800})
    page.locator(".langswitch button[value=en]").click()
    for path in ("/", "/alerts/", "/alerts/channels/new/"):
        page.goto(path)
        assert _no_sideways_scroll(page), path
    page.goto("/")
    assert "Token lifetimes" in page.content()
    screenshot(page, "overview-en")
    page.goto("/alerts/")
    assert "Credential stopped: feishu-legacy" in page.get_by_test_id("open-alerts").inner_text()
    screenshot(page, "alerts-en")
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/", "overview-390"), ("/alerts/", "alerts-390")):
        page.goto(path)
        assert _no_sideways_scroll(page), path
        screenshot(page, name)
    assert page.csp_violations() == []
    assert page.console_errors == []
