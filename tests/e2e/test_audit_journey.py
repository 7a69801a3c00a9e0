from __future__ import annotations

import pytest

from apps.audit.services import Actor, record

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_auditor_filters_reveals_opens_one_exports_and_verifies(page, make_user):
    from apps.vault.services import credential_create

    make_user("audrey", "auditor", password="a long auditor passphrase")
    for slug in ("feishu-prod", "wechat-prod"):
        provider = slug.split("-")[0]
        credential_create(
            by=None,
            provider=provider,
            name=slug,
            slug=slug,
            environment="prod",
            public={"app_id" if provider == "feishu" else "appid": "id-1"},
            secrets={"app_secret" if provider == "feishu" else "secret": "s-1"},
        )
        record(
            action="credential.reveal",
            actor=Actor.system("ada"),
            target_type="credential",
            target_id=slug,
            secrets={"app_secret": f"secret-of-{slug}"},
            details={"provider": slug.split("-")[0], "field": "app_secret"},
        )
        record(
            action="credential.update",
            actor=Actor.system("ada"),
            target_type="credential",
            target_id=slug,
            details={"changed": ["name"]},
        )
    sign_in(page, "audrey", "a long auditor passphrase")
    page.locator("header nav").get_by_role("link", name="审计").click()
    page.select_option("#id_credential", "feishu-prod")  # credentials are offered as choices
    page.select_option("#id_family", "credential")
    page.get_by_role("button", name="筛选").click()
    page.locator("#event-table tbody tr").first.wait_for()
    rows = page.locator("#event-table tbody tr")
    page.locator("#event-table", has_text="credential.update").wait_for()
    assert rows.count() == 3  # created, revealed, updated
    reveal = page.locator("#event-table tbody tr", has_text="credential.reveal")
    reveal.locator("a").first.click()
    drawer = page.get_by_test_id("event-detail")
    drawer.wait_for()
    assert "app_secret" in drawer.inner_text() and "secret-of-feishu-prod" not in page.content()
    screenshot(page, "audit-drawer-zh")
    page.locator("[data-close-drawer]").click()

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        csv_text = exported.read()
    assert csv_text.count("credential.reveal") == 1 and "feishu-prod" in csv_text
    assert "wechat-prod" not in csv_text

    page.get_by_test_id("verify-chain").click()
    page.get_by_test_id("verify-ok").wait_for()
    screenshot(page, "audit-verified-zh")
    assert page.console_errors == []
    assert page.csp_violations() == []
