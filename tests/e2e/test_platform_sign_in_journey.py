"""Sign-in with Feishu as an IT admin and a new colleague meet it: the admin chooses the
credential; the colleague signs in through the (emulated) Feishu page, lands with no role on
a page that says so; the admin grants developer; the colleague signs in again and works."""

from __future__ import annotations

import pytest

from apps.accounts.models import User

from .conftest import screenshot, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


PLATFORMS = [
    # platform, its consent page's address, the person picked there, the name they arrive as
    ("feishu", "**/open-apis/authen/v1/authorize?**", "测试用户3 (Test User 3)", "测试用户3"),
    ("dingtalk", "**/oauth2/auth?**", "钉钉用户3", "钉钉用户3"),
    ("wecom", "**/wwlogin/sso/login?**", "企业微信成员3", "member03"),
]


@pytest.mark.parametrize(("platform", "consent_url", "person", "arrives_as"), PLATFORMS)
def test_a_colleague_signs_in_with_a_platform_and_waits_for_a_role(
    page,
    make_user,
    token_credential,
    settings,
    live_server,
    platform,
    consent_url,
    person,
    arrives_as,
):
    settings.SITE_URL = live_server.url  # the callback registered with the platform's app
    make_user("ada", "admin", password="a long admin passphrase")
    credential, _ = token_credential(platform, slug=f"{platform}-sso")
    sign_in(page, "ada", "a long admin passphrase")
    page.locator("details.usermenu summary").click()
    page.get_by_test_id("menu-platform-sign-in").click()
    chosen = page.get_by_test_id(f"platform-{platform}")
    chosen.locator(f"select[name={platform}-credential]").select_option(label=str(credential))
    callback = chosen.locator("code").inner_text()
    assert callback == f"{live_server.url}/accounts/platforms/{platform}/login/callback/"
    if platform == "feishu":
        screenshot(page, "platform-sign-in-settings-zh")
    page.get_by_role("button", name="保存").click()
    page.get_by_test_id(f"platform-{platform}").filter(has_text="已开启").wait_for()
    sign_out(page)

    page.get_by_test_id(f"sign-in-{platform}").click()
    page.wait_for_url(consent_url)
    page.get_by_label(person).check()
    page.get_by_role("button", name="授权 Authorise").click()
    page.get_by_test_id("waiting-for-role").wait_for()
    page.console_errors.clear()  # the platform's own page asked for a favicon
    assert arrives_as in page.locator("main").inner_text()
    assert page.locator("nav .mainnav").count() == 0
    screenshot(page, f"waiting-for-role-{platform}-zh")
    colleague = User.objects.get(socialaccount__provider=f"{platform}_signin")
    sign_out(page)

    sign_in(page, "ada", "a long admin passphrase")
    page.goto("/accounts/users/")
    row = page.locator(f"#user-{colleague.pk}")
    row.locator("select[name=role]").select_option("developer")
    row.get_by_role("button", name="设置").click()
    page.get_by_test_id("confirm-yes").click()
    sign_out(page)

    page.get_by_test_id(f"sign-in-{platform}").click()
    page.get_by_label(person).check()
    page.get_by_role("button", name="授权 Authorise").click()
    page.wait_for_url(f"{live_server.url}/")
    page.console_errors.clear()
    page.goto("/console/")
    assert "控制台" in page.locator("main").inner_text()
    assert page.console_errors == []
    assert page.csp_violations() == []
