from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent

from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_signs_in_sees_chinese_switches_to_english_and_signs_out(page, make_user):
    make_user("ada", "admin", password="a long admin passphrase")
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "登录"
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a long admin passphrase")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "概览"
    assert page.get_by_role("link", name="用户").is_visible()
    screenshot(page, "overview-zh")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "overview-en")

    page.locator("details.usermenu summary").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in"
    # No CSP violation or script error on the way.
    assert page.console_errors == []
    assert page.csp_violations() == []
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["auth.login", "auth.logout"]


def test_admin_creates_a_developer_in_place_with_htmx(page, make_user):
    make_user("ada", "admin", password="a long admin passphrase")
    page.goto("/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a long admin passphrase")
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")
    page.goto("/accounts/users/")
    page.fill("#id_username", "ada")  # taken: the form must come back with an error
    page.select_option("#id_role", "developer")
    page.get_by_role("button", name="创建用户").click()
    page.locator(".field-error").wait_for()
    assert page.input_value("#id_username") == "ada"
    page.fill("#id_username", "dev-dora")
    page.get_by_role("button", name="创建用户").click()
    page.get_by_test_id("one-time-password").wait_for()
    assert page.locator("#user-table").inner_text().count("dev-dora") == 1
    screenshot(page, "users-created-zh")
    assert page.console_errors == []
    assert page.csp_violations() == []
