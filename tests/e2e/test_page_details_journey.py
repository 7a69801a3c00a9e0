"""Small things a person trips over, checked in the browser: no "Deactivate" on one's own
row, Client keys in the navigation and a new key with a copy button, an alert channel's form
showing only the fields of the kind chosen, no "Refresh now" for a disabled credential."""

from __future__ import annotations

import pytest

from apps.vault.services import credential_create, credential_set_enabled

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_pages_offer_only_what_makes_sense(page, make_user):
    ada = make_user("ada", "admin", password="a long admin passphrase")
    make_user("dan", "developer")
    credential = credential_create(
        by=ada,
        provider="feishu",
        name="停用的飞书",
        slug="feishu-off",
        environment="test",
        public={"app_id": "cli_off"},
        secrets={"app_secret": "s" * 20},
    )
    credential_set_enabled(credential=credential, by=ada, enabled=False)
    sign_in(page, "ada", "a long admin passphrase")

    page.goto("/accounts/users/")
    rows = page.locator("#user-table tbody tr")
    own = rows.filter(has_text="ada")
    other = rows.filter(has_text="dan")
    assert own.get_by_test_id("deactivate").count() == 0
    assert other.get_by_test_id("deactivate").count() == 1

    page.get_by_test_id("nav-client-keys").click()
    page.wait_for_url("**/tokens/keys/")
    assert page.get_by_test_id("nav-client-keys").get_attribute("aria-current") == "page"

    page.goto("/alerts/channels/new/")
    kind = page.locator("select[name=kind]")
    kind.select_option("email")
    assert page.locator("#id_email_to").is_visible() and not page.locator("#id_url").is_visible()
    kind.select_option("feishu")
    assert page.locator("#id_url").is_visible() and not page.locator("#id_email_to").is_visible()
    screenshot(page, "alert-channel-feishu-zh")

    page.goto("/tokens/feishu-off/")
    assert page.get_by_test_id("refresh-now").count() == 0
    assert page.get_by_test_id("credential-disabled").is_visible()
    assert page.console_errors == []
    assert page.csp_violations() == []
