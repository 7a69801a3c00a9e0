"""Sign-in with Feishu as an IT admin and a new colleague meet it: the admin chooses the
credential; the colleague signs in through the (emulated) Feishu page, lands with no role on
a page that says so; the admin grants developer; the colleague signs in again and works."""

from __future__ import annotations

import pytest

from apps.accounts.models import User

from .conftest import screenshot, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_colleague_signs_in_with_feishu_and_waits_for_a_role(
    page, make_user, token_credential, settings, live_server
):
    settings.SITE_URL = live_server.url  # the callback registered with the Feishu app
    make_user("ada", "admin", password="a long admin passphrase")
    credential, _ = token_credential("feishu", slug="feishu-sso")
    sign_in(page, "ada", "a long admin passphrase")
    page.locator("details.usermenu summary").click()
    page.get_by_test_id("menu-platform-sign-in").click()
    feishu = page.get_by_test_id("platform-feishu")
    feishu.locator("select[name=feishu-credential]").select_option(label=str(credential))
    callback = feishu.locator("code").inner_text()
    assert callback == f"{live_server.url}/accounts/platforms/feishu/login/callback/"
    screenshot(page, "platform-sign-in-settings-zh")
    page.get_by_role("button", name="保存").click()
    page.get_by_test_id("platform-feishu").filter(has_text="已开启").wait_for()
    sign_out(page)

    page.get_by_test_id("sign-in-feishu").click()
    page.wait_for_url("**/open-apis/authen/v1/authorize?**")
    page.get_by_label("测试用户3 (Test User 3)").check()
    page.get_by_role("button", name="授权 Authorise").click()
    page.get_by_test_id("waiting-for-role").wait_for()
    page.console_errors.clear()  # the platform's own page asked for a favicon
    assert "测试用户3" in page.locator("main").inner_text()
    assert page.locator("nav .mainnav").count() == 0
    screenshot(page, "waiting-for-role-zh")
    colleague = User.objects.get(socialaccount__provider="feishu_signin")
    sign_out(page)

    sign_in(page, "ada", "a long admin passphrase")
    page.goto("/accounts/users/")
    row = page.locator(f"#user-{colleague.pk}")
    row.locator("select[name=role]").select_option("developer")
    row.get_by_role("button", name="设置").click()
    page.get_by_test_id("confirm-yes").click()
    sign_out(page)

    page.get_by_test_id("sign-in-feishu").click()
    page.get_by_label("测试用户3 (Test User 3)").check()
    page.get_by_role("button", name="授权 Authorise").click()
    page.wait_for_url(f"{live_server.url}/")
    page.console_errors.clear()
    page.goto("/console/")
    assert "控制台" in page.locator("main").inner_text()
    assert page.console_errors == []
    assert page.csp_violations() == []
