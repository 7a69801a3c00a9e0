from __future__ import annotations

import re

import pytest

from apps.sandbox.services import sandbox_app_register

from .conftest import screenshot, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_adds_feishu_credential_tests_it_and_developer_sees_no_secret(
    page, make_user, live_server
):
    make_user("ada", "admin", password="a long admin passphrase")
    make_user("dan", "developer", password="a long developer passphrase")
    app, secret = sandbox_app_register(provider="feishu", app_id="cli_e2e_0001")

    sign_in(page, "ada", "a long admin passphrase")
    page.get_by_role("link", name="凭证").click()
    assert "还没有凭证" in page.locator("main").inner_text()
    page.get_by_role("button", name="添加凭证").click()
    page.locator("a.card", has_text="飞书开放平台").click()
    page.fill("#id_p_app_id", app.app_id)
    page.fill("#id_p_app_secret", secret)
    page.fill("#id_name", "飞书沙箱")
    page.fill("#id_slug", "feishu-sandbox")
    page.select_option("#id_environment", "test")
    page.fill("#id_base_url", f"{live_server.url}/sandbox/feishu")
    page.check("#id_shared_with_developers")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/credentials/feishu-sandbox/")
    assert secret not in page.content()

    page.get_by_test_id("test-connection").click()
    page.get_by_test_id("test-ok").wait_for()
    logid = page.get_by_test_id("trace-id").inner_text()
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", logid)
    screenshot(page, "vault-detail-tested-zh")
    assert secret not in page.content()
    assert page.console_errors == []
    assert page.csp_violations() == []
    sign_out(page)

    sign_in(page, "dan", "a long developer passphrase")
    page.get_by_role("link", name="凭证").click()
    page.get_by_role("link", name="飞书沙箱").click()
    masked = page.get_by_test_id("masked-app_secret").inner_text()
    assert masked == "••••••••"
    html = page.content()
    assert secret not in html and secret[-4:] not in html
    assert page.get_by_test_id("test-connection").count() == 0
    screenshot(page, "vault-detail-developer-zh")
