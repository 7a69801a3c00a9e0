from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from apps.console import catalogue
from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.vault.services import credential_create

from .conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _developer_with_feishu(make_user, live_server, settings, username, app_id, slug) -> str:
    """A developer (password "a long developer passphrase") allowed a Feishu sandbox
    credential; returns the app secret."""
    parts = urlsplit(live_server.url)
    settings.CONSOLE_INTERNAL_TARGETS = [f"{parts.hostname}:{parts.port}"]
    dev = make_user(username, "developer", password="a long developer passphrase")
    app, secret = sandbox_app_register(provider="feishu", app_id=app_id)
    values = get_provider("feishu").sample_values(app.app_id, secret)
    credential_create(
        by=None,
        provider="feishu",
        name="飞书沙箱",
        slug=slug,
        environment="test",
        base_url=f"{live_server.url}/sandbox/feishu",
        public={"app_id": values["app_id"]},
        secrets={"app_secret": values["app_secret"]},
        allowed_users=[dev],
    )
    return secret


def test_developer_sends_a_feishu_message_then_a_bad_call(page, make_user, live_server, settings):
    secret = _developer_with_feishu(
        make_user, live_server, settings, "dan", "cli_e2e_console", "feishu-sandbox"
    )
    sign_in(page, "dan", "a long developer passphrase")
    page.locator("header nav").get_by_role("link", name="控制台").click()
    page.select_option("#id_credential", "feishu-sandbox")
    page.select_option("#id_method", "POST")
    page.fill("#id_path", "/open-apis/im/v1/messages")
    # Query parameters as a name/value grid that writes the lines the server reads.
    grid = page.get_by_test_id("query-grid")
    grid.locator("input[aria-label=名称]").first.fill("receive_id_type")
    grid.locator("input[aria-label=值]").first.fill("open_id")
    assert page.input_value("#id_query") == "receive_id_type=open_id"
    page.fill(
        "#id_body",
        json.dumps(
            {
                "receive_id": "ou_1",
                "msg_type": "text",
                "content": json.dumps({"text": "来自控制台"}),
            },
            ensure_ascii=False,
            indent=2,
        ),
    )
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", page.get_by_test_id("trace-id").inner_text())
    screenshot(page, "console-ok-zh")

    page.fill(
        "#id_body", json.dumps({"receive_id": "ou_1", "msg_type": "nonsense", "content": "{}"})
    )
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-failed").wait_for()
    assert page.get_by_test_id("code").inner_text() == "99992402"
    decoded = page.get_by_test_id("decoded").inner_text()
    assert "请求参数校验失败" in decoded and "Field validation failed" in decoded
    assert "msg_type" in page.get_by_test_id("field-violation").inner_text()
    screenshot(page, "console-error-zh")
    assert secret not in page.content()
    assert page.console_errors == []
    assert page.csp_violations() == []


# The send-message example as Feishu's documentation prints it (token elided by the docs).
FEISHU_DOCS_CURL = """curl -i -X POST 'https://open.feishu.cn/open-apis/im/v1/messages?receive_id_type=open_id' \\
-H 'Authorization: Bearer t-g1044ghJRUIJJ5ELPPYDULVZUCIWGLBKHGAFOTO3' \\
-H 'Content-Type: application/json' \\
-d '{
	"content": "{\\"text\\":\\"test content\\"}",
	"msg_type": "text",
	"receive_id": "ou_7d8a6e6df7621556ce0d21922b676706ccs"
}'"""  # noqa: E501 (verbatim from the docs)


def test_developer_imports_a_docs_example_saves_it_and_replays_from_history(
    page, make_user, live_server, settings
):
    secret = _developer_with_feishu(
        make_user, live_server, settings, "lin", "cli_e2e_import", "feishu-docs"
    )
    sign_in(page, "lin", "a long developer passphrase")
    page.goto("/console/")
    page.get_by_test_id("saved-panel-empty").wait_for()
    page.select_option("#id_credential", "feishu-docs")

    # Import the docs' example: the pasted token becomes managed auth, with a warning.
    page.locator("details.import summary").click()
    page.fill("textarea[name=curl]", FEISHU_DOCS_CURL)
    page.locator("details.import").get_by_role("button").click()
    page.get_by_test_id("import-warnings").wait_for()
    assert page.input_value("#id_credential") == "feishu-docs"
    assert page.input_value("#id_path") == "/open-apis/im/v1/messages"
    assert json.loads(page.input_value("#id_body"))["msg_type"] == "text"
    preview = page.get_by_test_id("preview-request")
    preview.wait_for()
    assert "Authorization: Bearer <tenant_access_token>" in preview.inner_text()
    assert "t-g1044ghJ" not in page.content()
    screenshot(page, "console-import-zh")

    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    first_logid = page.get_by_test_id("trace-id").inner_text()
    assert re.fullmatch(r"\d{14}[0-9A-F]{20}", first_logid)

    # Keep it for the team.
    page.locator("details.save summary").click()
    page.fill("#id_save-name", "发送文本消息")
    page.fill("#id_save-folder", "im")
    page.check("#id_save-shared")
    page.get_by_test_id("save").click()
    page.get_by_test_id("saved-notice").wait_for()
    assert "发送文本消息" in page.locator("#saved-panel").inner_text()

    # Replay from the history: a new send with a new logid.
    page.goto("/console/history/")
    page.locator("[data-testid^=replay-]").first.click()
    page.get_by_test_id("replayed").wait_for()
    page.get_by_test_id("result-ok").wait_for()
    assert page.get_by_test_id("trace-id").inner_text() != first_logid
    screenshot(page, "console-replay-zh")

    # The saved list, in English.
    page.goto("/console/saved/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Saved requests").wait_for()
    assert "发送文本消息" in page.inner_text("main") and "shared" in page.inner_text("main")
    screenshot(page, "console-saved-en")
    assert secret not in page.content()
    assert page.console_errors == []
    assert page.csp_violations() == []


def test_search_the_catalogue_pick_an_api_fill_its_path_parameter_and_send(
    page, make_user, live_server, settings
):
    _developer_with_feishu(
        make_user, live_server, settings, "cat", "cli_e2e_catalogue", "feishu-catalogue"
    )
    sign_in(page, "cat", "a long developer passphrase")
    page.goto(f"{live_server.url}/console/")
    page.select_option("#id_credential", "feishu-catalogue")
    results = page.get_by_test_id("catalogue-results")
    count = len(catalogue.entries("feishu"))  # the catalogue follows the credential
    results.locator(".catalogue-count", has_text=f"{count} 个 API").wait_for()
    search = page.get_by_test_id("catalogue-search")
    search.fill("contact v3 users")
    results.locator("a", has_text="/open-apis/contact/v3/users/{user_id}").first.wait_for()
    screenshot(page, "console-catalogue-search")
    # The keyboard: down from the box to the results, Enter opens the focused one.
    search.press("ArrowDown")
    for _ in range(20):
        focused = page.evaluate("document.activeElement.textContent")
        if "GET" in focused and "/open-apis/contact/v3/users/{user_id}" in focused:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_test_id("api-card").wait_for()
    assert page.input_value("#id_path") == "/open-apis/contact/v3/users/{user_id}"
    assert page.input_value("#id_method") == "GET"
    page.get_by_test_id("path-param-user_id").fill("ou_" + "0" * 31 + "1")
    page.get_by_test_id("path-param-user_id").press("Control+Enter")  # sends
    page.get_by_test_id("result-ok").wait_for()
    assert "测试用户1" in page.get_by_test_id("response-body").inner_text()
    # The recent sends panel follows each send without a reload.
    recent = page.get_by_test_id("recent-panel")
    assert "/open-apis/contact/v3/users/ou_" in recent.inner_text()
    screenshot(page, "console-catalogue-sent")
    # A request the server refuses (here: the CSRF cookie is gone) says so and clears the
    # result it would otherwise leave standing.
    page.context.clear_cookies(name="csrftoken")
    page.get_by_test_id("send").click()
    page.get_by_test_id("request-refused").wait_for()
    assert "HTTP 403" in page.get_by_test_id("request-refused").inner_text()
    assert page.get_by_test_id("result-ok").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "console-catalogue-390")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className).slice(0, 12)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    # Only the deliberate refusal shows in the browser's console (the request, htmx's report).
    assert page.console_errors and all(
        "403" in e or "responseError" in e for e in page.console_errors
    ), page.console_errors
    assert page.csp_violations() == []


def test_upload_an_image_with_a_multipart_body(page, make_user, live_server, settings, tmp_path):
    _developer_with_feishu(
        make_user, live_server, settings, "upl", "cli_e2e_upload", "feishu-upload"
    )
    sign_in(page, "upl", "a long developer passphrase")
    page.goto(f"{live_server.url}/console/?credential=feishu-upload")
    page.get_by_test_id("catalogue-search").fill("上传图片")
    page.get_by_test_id("catalogue-results").locator(
        "a", has_text="/open-apis/im/v1/images"
    ).first.click()
    page.get_by_test_id("api-card").wait_for()
    assert page.input_value("#id_body_type") == "multipart"
    assert page.input_value("#id_upload_field") == "image"
    page.fill("#id_body", "image_type=message")
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    page.set_input_files("#id_upload", str(image))
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    assert "img_v2_" in page.get_by_test_id("response-body").inner_text()
    page.get_by_test_id("export").click()
    page.get_by_test_id("export-code").wait_for()
    assert "-F image=@logo.png" in page.get_by_test_id("export-code").inner_text()
    screenshot(page, "console-multipart-upload")
    assert page.console_errors == []
    assert page.csp_violations() == []


def _dingtalk_credential(live_server, user, app_id: str, slug: str, **public: str) -> str:
    """A DingTalk sandbox credential for `user` (public values override the demo ones);
    returns its secret."""
    app, secret = sandbox_app_register(provider="dingtalk", app_id=app_id)
    values = {**get_provider("dingtalk").sample_values(app.app_id, secret), **public}
    secret_names = set(get_provider("dingtalk").secret_fields)
    credential_create(
        by=None,
        provider="dingtalk",
        name=f"钉钉 {slug}",
        slug=slug,
        environment="test",
        base_url=f"{live_server.url}/sandbox/dingtalk",
        public={k: v for k, v in values.items() if k not in secret_names},
        secrets={k: v for k, v in values.items() if k in secret_names},
        allowed_users=[user],
    )
    return secret


def test_a_dingtalk_new_api_call_from_the_catalogue(page, make_user, live_server, settings):
    parts = urlsplit(live_server.url)
    settings.CONSOLE_INTERNAL_TARGETS = [f"{parts.hostname}:{parts.port}"]
    dev = make_user("din", "developer", password="a long developer passphrase")
    secret = _dingtalk_credential(live_server, dev, "ding_e2e_01", "dingtalk-sandbox")
    sign_in(page, "din", "a long developer passphrase")
    page.goto(f"{live_server.url}/console/?credential=dingtalk-sandbox")
    page.get_by_test_id("catalogue-search").fill("获取用户信息")
    page.get_by_test_id("catalogue-results").locator(
        "a", has_text="/v1.0/contact/users/{union_id}"
    ).first.click()
    page.get_by_test_id("path-param-union_id").fill("on_e2e")
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    assert "on_e2e" in page.get_by_test_id("response-body").inner_text()
    assert secret not in page.content()
    screenshot(page, "console-dingtalk-new-api")
    # One the sandbox does not emulate: marked in the results, answered with a sample of the
    # response model alibabacloud-dingtalk declares (the body itself, as DingTalk answers).
    page.get_by_test_id("catalogue").locator("summary").click()  # folded once an API is picked
    page.get_by_test_id("catalogue-search").fill("attendees")
    attendees = page.get_by_test_id("catalogue-results").locator(
        "a", has_text="/events/{event_id}/attendees"
    )
    attendees.first.wait_for()
    assert "样例" in attendees.first.inner_text()
    attendees.first.click()
    page.get_by_test_id("api-sandbox").wait_for()
    assert "X-Zhongkong-Sandbox: generated" in page.get_by_test_id("api-sandbox").inner_text()
    for name, value in (("user_id", "u1"), ("calendar_id", "primary"), ("event_id", "ev1")):
        page.get_by_test_id(f"path-param-{name}").fill(value)
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    body = page.get_by_test_id("response-body").inner_text()
    assert '"attendees"' in body and '"nextToken"' in body and "InvalidAction" not in body
    screenshot(page, "console-dingtalk-declared-reply")
    # A credential set to the classic API searches the classic catalogue (TOP SDK entries).
    classic_secret = _dingtalk_credential(
        live_server, dev, "ding_e2e_02", "dingtalk-classic", api="old"
    )
    page.goto(f"{live_server.url}/console/?credential=dingtalk-classic")
    page.get_by_test_id("catalogue-search").fill("v2 user get")
    results = page.get_by_test_id("catalogue-results")
    results.locator("a", has_text="/topapi/v2/user/get").first.wait_for()
    assert "/v1.0/" not in results.inner_text()
    results.locator("a", has_text="/topapi/v2/user/get").first.click()
    page.wait_for_url("**api=dingtalk.oapi.v2.user.get**")
    page.fill("#id_body", '{"userid": "manager4220"}')
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    assert "manager4220" in page.get_by_test_id("response-body").inner_text()
    assert classic_secret not in page.content()
    screenshot(page, "console-dingtalk-classic-api")
    assert page.console_errors == []
    assert page.csp_violations() == []


def test_query_parameters_are_edited_as_a_grid(page, make_user, live_server, settings):
    """Picking an API fills the grid; "Add" and the grid's own rows write the query lines;
    "Edit as text" shows the lines themselves; what is sent is what the grid says."""
    _developer_with_feishu(make_user, live_server, settings, "gil", "cli_e2e_grid", "feishu-grid")
    sign_in(page, "gil", "a long developer passphrase")
    page.goto(f"{live_server.url}/console/?credential=feishu-grid&api=contact.v3.list_user")
    grid = page.get_by_test_id("query-grid")
    names = grid.locator("input[aria-label=名称]")
    values = grid.locator("input[aria-label=值]")
    assert names.first.input_value() == "page_size"
    values.first.fill("5")
    grid.get_by_role("button", name="添加参数").click()
    names.nth(1).fill("user_id_type")
    values.nth(1).fill("open_id")
    assert page.input_value("#id_query") == "page_size=5\nuser_id_type=open_id"
    grid.get_by_role("button", name="删除").first.click()  # the row with page_size
    assert page.input_value("#id_query") == "user_id_type=open_id"
    # The documented parameters' "Add" puts a row in the grid.
    page.locator("details:has([data-testid=query-params]) > summary").click()
    page.get_by_test_id("query-params").locator("tr", has_text="page_size").locator(
        "button"
    ).click()
    assert names.count() == 2
    screenshot(page, "console-query-grid")
    grid.get_by_role("button", name="以文本编辑").click()
    assert page.locator("#id_query").is_visible()
    page.fill("#id_query", "page_size=3\nuser_id_type=open_id")
    grid.get_by_role("button", name="以表格编辑").click()
    assert [names.nth(i).input_value() for i in range(names.count())] == [
        "page_size",
        "user_id_type",
    ]
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    from apps.console.models import ConsoleCall

    call = ConsoleCall.objects.get()
    assert "page_size=3" in call.url and "user_id_type=open_id" in call.url
    assert page.csp_violations() == []


def test_a_past_send_opens_from_history_with_its_code_in_four_languages(
    page, make_user, live_server, settings
):
    secret = _developer_with_feishu(
        make_user, live_server, settings, "hui", "cli_e2e_history", "feishu-history"
    )
    sign_in(page, "hui", "a long developer passphrase")
    page.goto("/console/?credential=feishu-history")
    page.select_option("#id_method", "POST")
    page.fill("#id_path", "/open-apis/im/v1/messages")
    grid = page.get_by_test_id("query-grid")
    grid.locator("input[aria-label=名称]").first.fill("receive_id_type")
    grid.locator("input[aria-label=值]").first.fill("open_id")
    page.fill("#id_body", json.dumps({"receive_id": "ou_1", "msg_type": "nonsense"}))
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-failed").wait_for()
    logid = page.get_by_test_id("trace-id").inner_text()

    page.goto("/console/history/")
    page.locator("[data-testid^=open-]").first.click()
    page.get_by_test_id("send-facts").wait_for()
    assert page.get_by_test_id("trace-id").inner_text() == logid
    assert "请求参数校验失败" in page.get_by_test_id("decoded").inner_text()
    assert "nonsense" in page.get_by_test_id("request-sent").inner_text()
    # One language at a time; its tab shows it.
    assert page.locator("#export-curl").is_visible() and not page.locator("#export-go").is_visible()
    page.get_by_test_id("export-tab-go").click()
    assert page.locator("#export-go").is_visible() and not page.locator("#export-curl").is_visible()
    assert "http.NewRequest" in page.locator("#export-go").inner_text()
    page.get_by_test_id("export-tab-node").click()
    assert "await fetch(" in page.locator("#export-node").inner_text()
    screenshot(page, "console-history-detail-zh")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="English").click()
    page.get_by_test_id("send-facts").wait_for()
    assert "Request sent" in page.inner_text("main")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(page, "console-history-detail-390-en")

    # Open it in the console to edit and send again.
    page.get_by_test_id("open-in-console").click()
    assert page.input_value("#id_path") == "/open-apis/im/v1/messages"
    assert "nonsense" in page.input_value("#id_body")
    assert secret not in page.content()
    assert page.console_errors == []
    assert page.csp_violations() == []


@pytest.mark.parametrize(
    ("width", "height", "language"), [(1366, 900, "zh"), (1366, 900, "en"), (390, 844, "zh")]
)
def test_the_console_is_a_workbench(
    page, make_user, live_server, settings, width, height, language
):
    _developer_with_feishu(make_user, live_server, settings, "wb", "cli_e2e_bench", "feishu-wb")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "wb", "a long developer passphrase")
    page.goto(f"{live_server.url}/console/?credential=feishu-wb")
    if language == "en":
        page.locator(".langswitch button[value=en]").click()
        page.get_by_test_id("catalogue-search").wait_for()
    # An untouched form is waiting, not wrong.
    page.get_by_test_id("preview-waiting").wait_for()
    assert page.get_by_test_id("preview-errors").count() == 0
    # Pick an API: the catalogue folds away, the form shows only what a JSON body uses.
    page.get_by_test_id("catalogue-search").fill("发送消息")
    page.get_by_test_id("catalogue-results").locator(
        "a", has_text="/open-apis/im/v1/messages"
    ).first.click()
    page.get_by_test_id("api-card").wait_for()
    assert page.evaluate("document.querySelector('[data-testid=catalogue]').open") is False
    assert not page.get_by_test_id("upload").is_visible()
    assert not page.get_by_test_id("upload-field").is_visible()
    page.select_option("#id_body_type", "multipart")
    assert page.get_by_test_id("upload").is_visible()
    page.select_option("#id_body_type", "json")
    assert not page.get_by_test_id("upload").is_visible()
    # The query grid shows a whole parameter name.
    name = page.get_by_test_id("query-grid").locator("input[aria-label]").first
    assert name.input_value() == "receive_id_type"
    assert page.evaluate("(e) => e.scrollWidth <= e.clientWidth", name.element_handle())
    page.fill(
        "#id_body",
        json.dumps({"receive_id": "ou_1", "msg_type": "text", "content": '{"text":"hi"}'}),
    )
    # Send from the bottom of the form: the answer is in view.
    page.get_by_test_id("send").scroll_into_view_if_needed()
    page.get_by_test_id("send").click()
    page.get_by_test_id("result-ok").wait_for()
    page.wait_for_function(  # once htmx has settled the answer in
        """() => { const b = document.querySelector('[data-testid="trace-id"]')
            .getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; }""",
        timeout=3000,
    )
    if width > 1000:  # request and response side by side
        form = page.locator("form[data-kind-field]").bounding_box()
        result = page.locator("#result").bounding_box()
        assert result["x"] > form["x"] + form["width"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"console-workbench-{width}-{language}")
    assert page.console_errors == []
    assert page.csp_violations() == []
