"""Two factors as a person meets them: set up an authenticator from the QR code (the key
read off the page, as an app would scan it), keep the recovery codes, sign out, sign in with
a code, then with a recovery code; the policy that requires one sends a new admin to set it
up first. In Chinese, at a laptop's width and a phone's."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp

from .conftest import screenshot, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long admin passphrase"


def _code(secret: str, ahead: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, drift=ahead):06d}"


def test_a_person_turns_on_a_second_factor_and_signs_in_with_it(page, make_user):
    make_user("ada", "admin", password=PASSWORD)
    sign_in(page, "ada", PASSWORD)
    page.locator("details.usermenu summary").click()
    page.get_by_test_id("menu-second-factor").click()
    assert "未启用" in page.get_by_test_id("not-enrolled").inner_text()
    page.get_by_test_id("enrol-start").click()
    page.get_by_test_id("qr").locator("svg").wait_for()
    secret = page.get_by_test_id("totp-secret").inner_text()
    screenshot(page, "second-factor-enrol-zh")
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="确认并启用").click()
    assert "验证码不正确" in page.locator("main").inner_text()
    page.wait_for_timeout(1100)  # django-otp's back-off: a second after one wrong code
    page.fill("#id_code", _code(secret))
    page.get_by_role("button", name="确认并启用").click()
    codes = page.locator("#recovery-codes").inner_text().split()
    assert len(codes) == 10
    screenshot(page, "second-factor-codes-zh")

    sign_out(page)
    page.goto("/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.get_by_test_id("second-factor-verify").wait_for()
    page.goto("/credentials/")  # nothing else opens before the code
    page.get_by_test_id("second-factor-verify").wait_for()
    screenshot(page, "second-factor-verify-zh")
    page.fill("#id_code", _code(secret, ahead=1))
    page.get_by_role("button", name="继续").click()
    page.wait_for_url("**/credentials/")

    sign_out(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.fill("#id_code", codes[0])
    page.get_by_role("button", name="继续").click()
    page.wait_for_url("**/")
    assert "还剩 9 个" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []
    assert page.csp_violations() == []


def test_the_policy_sends_an_admin_to_set_up_a_second_factor_first(page, make_user):
    from apps.accounts.models import SignInPolicy

    make_user("bo", "admin", password=PASSWORD)
    SignInPolicy.objects.create(pk=1, second_factor="admins")
    page.goto("/accounts/login/")
    page.fill("#id_username", "bo")
    page.fill("#id_password", PASSWORD)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.get_by_test_id("second-factor-required").wait_for()
    page.goto("/tokens/")
    page.get_by_test_id("second-factor-required").wait_for()
    screenshot(page, "second-factor-required-zh")
