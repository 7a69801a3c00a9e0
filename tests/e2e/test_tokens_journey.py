from __future__ import annotations

import re

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.vault.services import credential_create

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_refreshes_a_token_and_creates_a_client_key(page, make_user, live_server):
    make_user("ada", "admin", password="a long admin passphrase")
    app, secret = sandbox_app_register(
        provider="feishu", app_id="cli_e2e_tokens", reissue_window=7201
    )
    values = get_provider("feishu").sample_values(app.app_id, secret)
    credential_create(
        by=None,
        provider="feishu",
        name="飞书生产",
        slug="feishu-prod",
        environment="production",
        base_url=f"{live_server.url}/sandbox/feishu",
        public={"app_id": values["app_id"]},
        secrets={"app_secret": values["app_secret"]},
    )
    sign_in(page, "ada", "a long admin passphrase")
    page.locator("header nav").get_by_role("link", name="令牌").click()
    row = page.locator("#token-feishu-prod")
    assert "尚未获取" in row.inner_text()
    row.get_by_role("button", name="立即刷新").click()
    page.locator("#token-feishu-prod .badge.ok").wait_for()
    assert "v1" in page.locator("#token-feishu-prod").inner_text()
    page.locator("#token-feishu-prod").get_by_role("button", name="立即刷新").click()
    page.locator("#token-feishu-prod", has_text="v2").wait_for()
    countdown = page.locator("#token-feishu-prod time[data-countdown]").first.inner_text()
    assert re.fullmatch(r"(1:59:\d\d|2:00:00)后", countdown), countdown
    screenshot(page, "tokens-zh")

    page.goto("/")
    assert page.get_by_test_id("tokens-ok").inner_text() == "1"
    page.goto("/tokens/keys/")
    page.fill("#id_name", "order-service")
    page.locator("input[name=credentials]").first.check()
    page.get_by_role("button", name="创建密钥").click()
    key = page.get_by_test_id("new-client-key").locator("code").inner_text()
    assert key.startswith("zkck_")
    screenshot(page, "client-keys-zh")
    page.goto("/tokens/keys/")
    assert key not in page.content()
    # English, at 1366 px (a common laptop): no page scrolls sideways.
    page.set_viewport_size({"width": 1366, "height": 800})
    page.locator(".langswitch button[value=en]").click()
    for path in (
        "/tokens/",
        "/tokens/feishu-prod/",
        "/console/",
        "/console/history/",
        "/tokens/keys/",
        "/",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
    page.goto("/tokens/")
    screenshot(page, "tokens-en-1366")
    assert page.console_errors == []
    assert page.csp_violations() == []


def test_admin_fetches_a_wecom_ticket_and_signs_a_page(page, make_user, live_server):
    """The token page's tickets, as a person sees them: none held, one fetched (a
    fingerprint, never the ticket), a page signed in place with htmx; on a phone too."""
    from apps.providers.jsapi import sign
    from apps.tokens.models import Ticket

    make_user("ada", "admin", password="a long admin passphrase")
    app, secret = sandbox_app_register(provider="wecom", app_id="ww_e2e_tickets")
    platform = get_provider("wecom")
    values = platform.sample_values(app.app_id, secret)
    credential_create(
        by=None,
        provider="wecom",
        name="企业微信 OA",
        slug="wecom-oa",
        environment="production",
        base_url=f"{live_server.url}/sandbox/wecom",
        public={k: v for k, v in values.items() if k not in platform.secret_fields},
        secrets={k: v for k, v in values.items() if k in platform.secret_fields},
    )
    sign_in(page, "ada", "a long admin passphrase")
    page.goto("/tokens/wecom-oa/")
    tickets = page.get_by_test_id("tickets")
    assert "尚未获取" in tickets.get_by_test_id("ticket-jsapi").inner_text()
    assert "0 / 400" in tickets.get_by_test_id("ticket-jsapi").inner_text()
    page.get_by_test_id("ticket-refresh-jsapi").click()
    page.get_by_test_id("ticket-jsapi").filter(has_text="(v1)").wait_for()
    held = Ticket.objects.get(kind="jsapi")
    assert held.fingerprint in page.get_by_test_id("ticket-jsapi").inner_text()
    assert held.value() not in page.content()

    url = "https://oa.example.com/approve?id=42"
    page.fill("#id_url", url + "#/step/2")
    page.get_by_test_id("page-signature").get_by_role("button", name="签名").click()
    config = page.get_by_test_id("signed-config")
    config.wait_for()
    text = config.inner_text()
    nonce = re.search(r'"nonceStr": "([^"]+)"', text).group(1)
    timestamp = re.search(r'"timestamp": (\d+)', text).group(1)
    assert f'"signature": "{sign(held.value(), nonce, timestamp, url)}"' in text
    assert held.value() not in page.content()
    screenshot(page, "tickets-zh")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/tokens/wecom-oa/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("tickets").scroll_into_view_if_needed()
    screenshot(page, "tickets-zh-390")
    assert page.console_errors == []
    assert page.csp_violations() == []
