from __future__ import annotations

import pytest

from apps.tokens.models import UserGrant

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_connects_a_user_through_the_platforms_page_and_revokes_them(
    page, make_user, token_credential, settings, live_server
):
    settings.SITE_URL = live_server.url  # the redirect URL registered with the platform
    make_user("ada", "admin", password="a long admin passphrase")
    credential, _ = token_credential(slug="feishu-people")
    sign_in(page, "ada", "a long admin passphrase")
    page.goto(f"/tokens/{credential.slug}/")
    page.get_by_test_id("connected-users").click()
    assert "还没有已连接的用户" in page.locator("main").inner_text()
    redirect_uri = page.get_by_test_id("redirect-uri").inner_text()
    assert redirect_uri == f"{live_server.url}/tokens/oauth/callback"
    assert page.console_errors == []
    page.get_by_test_id("connect-user").click()
    # The emulated Feishu's consent page: pick the second demo user and authorise.
    page.wait_for_url("**/open-apis/authen/v1/authorize?**")
    page.get_by_label("测试用户2 (Test User 2)").check()
    page.get_by_role("button", name="授权 Authorise").click()
    page.wait_for_url(f"**/tokens/{credential.slug}/users/")
    page.console_errors.clear()  # the platform's own page asked it for a favicon
    row = page.get_by_test_id("grant-row")
    assert "测试用户2" in row.inner_text() and "正常" in row.inner_text()
    assert "已连接 测试用户2。" in page.locator("main").inner_text()
    grant = UserGrant.objects.get()
    assert grant.access_token() not in page.content()
    assert grant.refresh_token() not in page.content()
    screenshot(page, "connected-users")
    page.reload()
    assert page.console_errors == []

    # The console sends as that person: the platform answers who they are.
    page.goto(f"/console/?credential={credential.slug}")
    page.fill("#id_path", "/open-apis/authen/v1/user_info")
    page.fill("#id_as_user", grant.user_id)
    page.press("#id_as_user", "Tab")  # a change: the preview follows
    page.get_by_test_id("preview-request").filter(has_text="user token of").wait_for()
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    result = page.locator("#result").inner_text()
    assert "测试用户2" in result and grant.user_id in page.get_by_test_id("sent-as").inner_text()
    assert grant.access_token() not in page.content()
    screenshot(page, "console-send-as")
    assert page.console_errors == []

    page.goto(f"/tokens/{credential.slug}/users/")
    page.get_by_test_id("revoke-grant").click()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_url(f"**/tokens/{credential.slug}/users/")
    assert "还没有已连接的用户" in page.locator("main").inner_text()
    assert not UserGrant.objects.exists()
