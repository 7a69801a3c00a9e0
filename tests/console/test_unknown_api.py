"""A catalogued API the Feishu emulator does not emulate answers through the console as the
platform's own 404 (decoded: no API at this path), not as a gateway error page."""

from __future__ import annotations

import pytest

from apps.console.models import ConsoleCall

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf"


def test_the_console_shows_the_platforms_404_for_a_catalogued_api_not_emulated(client_as, feishu):
    send = {
        "credential": "fs",
        "method": "GET",
        "path": UNKNOWN,
        "query": "",
        "headers": "",
        "body": "",
    }
    html = client_as("developer").post("/console/send/", send, HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert html.status_code == 200
    call = ConsoleCall.objects.get()
    assert call.status == 404 and not call.ok
    assert "404 page not found" in text
    assert call.classification == "client_error"
    assert "请检查请求方法和路径" in text and "HTML" not in text


@pytest.mark.parametrize("platform", ["feishu", "dingtalk", "wecom", "wechat", "feishu_project"])
def test_the_catalogue_says_which_apis_the_sandbox_emulates(client, platform):
    """An API marked emulated reaches an emulator's view (not the catch-all: a sample call
    does not get the 'not emulated' reply); one marked not emulated gets the platform's
    unknown-path answer, marked as such."""
    from apps.console import catalogue

    apis = catalogue.entries(platform)
    marked = {api.id: catalogue.sandbox_emulates(platform, api) for api in apis}
    emulated = [api for api in apis if marked[api.id]]
    others = [api for api in apis if marked[api.id] is False]
    assert emulated and others
    for api in emulated + others[:: max(1, len(others) // 15)]:
        path = "/sandbox/" + platform + api.path.replace("{", "").replace("}", "")
        answer = client.generic(api.method, path)
        not_emulated = (
            answer.headers.get("X-Zhongkong-Sandbox") == "not-emulated"
            or (answer.status_code == 404 and b"page not found" in answer.content[:100])
            or b"InvalidAction.NotFound" in answer.content
        )
        assert not_emulated is (not marked[api.id]), (api.method, api.path, answer.status_code)


def test_the_api_card_says_whether_the_sandbox_emulates_it(client_as, feishu):
    client = client_as("developer")
    sent = client.get("/console/?credential=fs&api=im.v1.create_message").content.decode()
    assert 'data-testid="api-sandbox"' in sent and "沙箱按平台规则模拟此 API" in sent
    other = client.get("/console/?credential=fs&api=im.v1.get_message").content.decode()
    assert "未模拟" in other
    results = client.get("/console/catalogue/", {"credential": "fs", "q": "发送消息"})
    assert 'class="badge ok"' in results.content.decode()
