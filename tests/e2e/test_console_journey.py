from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.vault.services import credential_create

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_developer_sends_a_feishu_message_then_a_bad_call(page, make_user, live_server,
                                                          settings):
    parts = urlsplit(live_server.url)
    settings.CONSOLE_INTERNAL_TARGETS = [f"{parts.hostname}:{parts.port}"]
    dev = make_user("dan", "developer", password="a long developer passphrase")
    app, secret = sandbox_app_register(provider="feishu", app_id="cli_e2e_console")
    values = get_provider("feishu").sample_values(app.app_id, secret)
    credential_create(by=None, provider="feishu", name="飞书沙箱", slug="feishu-sandbox",
                      environment="test", base_url=f"{live_server.url}/sandbox/feishu",
                      public={"app_id": values["app_id"]},
                      secrets={"app_secret": values["app_secret"]}, allowed_users=[dev])
    sign_in(page, "dan", "a long developer passphrase")
    page.locator("header nav").get_by_role("link", name="控制台").click()
    page.select_option("#id_credential", "feishu-sandbox")
    page.select_option("#id_method", "POST")
    page.fill("#id_path", "/open-apis/im/v1/messages")
    page.fill("#id_query", "receive_id_type=open_id")
    page.fill("#id_body", json.dumps({"receive_id": "ou_1", "msg_type": "text",
                                      "content": json.dumps({"text": "来自控制台"})},
                                     ensure_ascii=False, indent=2))
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", page.get_by_test_id("trace-id").inner_text())
    screenshot(page, "console-ok-zh")

    page.fill("#id_body", json.dumps({"receive_id": "ou_1", "msg_type": "nonsense",
                                      "content": "{}"}))
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-failed").wait_for()
    assert page.get_by_test_id("code").inner_text() == "99992402"
    decoded = page.get_by_test_id("decoded").inner_text()
    assert "请求参数校验失败" in decoded and "Field validation failed" in decoded
    assert "msg_type" in page.get_by_test_id("field-violation").inner_text()
    screenshot(page, "console-error-zh")
    assert secret not in page.content()
    assert page.console_errors == []
