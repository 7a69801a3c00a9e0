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
