"""No page scrolls sideways, at a laptop's width (1366 px) and a phone's (390 px), in both
languages, with rows long enough to have overflowed before: tables scroll inside their own
box, the page does not."""

from __future__ import annotations

import pytest

from apps.console.models import ConsoleCall
from apps.vault.services import credential_create

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PAGES = (
    "/",
    "/credentials/",
    "/tokens/",
    "/console/history/",
    "/audit/",
    "/accounts/users/",
    "/accounts/platform-sign-in/",
)


def test_no_page_scrolls_sideways(page, make_user):
    ada = make_user("ada", "admin", password="a long admin passphrase")
    make_user(
        "a-developer-with-a-rather-long-username", "developer", email="x" * 40 + "@example.com"
    )
    credential = credential_create(
        by=ada,
        provider="feishu",
        name="飞书生产环境（订单、审批与通讯录同步）",
        slug="feishu-production-orders-approvals-contacts",
        environment="production",
        public={"app_id": "cli_a1b2c3d4e5f6a7b8"},
        secrets={"app_secret": "s" * 32},
    )
    for n in range(3):
        ConsoleCall.objects.create(
            user=ada,
            credential=credential,
            method="POST",
            url="https://open.feishu.cn/open-apis/im/v1/messages?receive_id_type=open_id&uuid="
            + "a" * 60,
            status=400,
            code="230001",
            trace_id="20261204101010" + "ABCDEF0123456789ABCD" + str(n),
            error="Your request contains an invalid request parameter, ext=" + "x" * 80,
        )
    sign_in(page, "ada", "a long admin passphrase")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for language in ("zh-hans", "en"):
            page.goto("/")
            page.locator(f".langswitch button[value={language}]").click()
            page.locator(f"html[lang={language}]").wait_for()
            for path in PAGES:
                page.goto(path)
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, (width, language, path, wide)
        screenshot(page, f"users-en-{width}")
        page.goto("/console/history/")
        screenshot(page, f"history-en-{width}")
    assert page.console_errors == []
