"""A catalogued Feishu or DingTalk (new API) API the emulator does not emulate answers with a
sample of the reply the SDK declares (after the platform's auth checks, marked generated); a
path no API has answers as the platform's own 404 (decoded: no API at this path), never as a
gateway error page. The catalogue says which is which."""

from __future__ import annotations

import json

import pytest

from apps.console.models import ConsoleCall

pytestmark = pytest.mark.django_db(transaction=True)
CATALOGUED = "/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf"  # not emulated
UNKNOWN = "/open-apis/no_such_api/v1/things/om_dc13264520392913993dd051dba21dcf"


def _send(client, path: str) -> str:
    send = {"credential": "fs", "method": "GET", "path": path, "query": "", "headers": ""}
    answer = client.post("/console/send/", {**send, "body": ""}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_catalogued_api_not_emulated_answers_with_the_reply_its_sdk_declares(client_as, feishu):
    text = _send(client_as("developer"), CATALOGUED)
    call = ConsoleCall.objects.get()
    assert call.status == 200 and call.ok and call.code == "0"
    assert call.response_headers["X-Zhongkong-Sandbox"] == "generated"
    body = json.loads(call.response_body)
    item = body["data"]["items"][0]  # the declared shape: every field of a message
    assert {"message_id", "msg_type", "sender", "body", "mentions"} <= set(item)
    assert item["sender"]["sender_i18n_names"] == {"zh_cn": "", "en_us": "", "ja_jp": ""}
    assert call.trace_id  # Feishu's X-Tt-Logid, as the platform sends it
    assert "success" in text


def test_a_dingtalk_api_not_emulated_answers_with_its_response_model(client_as, sandbox_credential):
    """alibabacloud-dingtalk's response model, as DingTalk answers: the body itself (no code
    wrapper), the request id in the header the adapter reads."""
    sandbox_credential("dingtalk", "ding_declared_01", "dt")
    path = "/v1.0/calendar/users/union01/calendars/primary/events/ev01/attendees"
    send = {"credential": "dt", "method": "GET", "path": path, "query": "", "headers": ""}
    answer = client_as("developer").post(
        "/console/send/", {**send, "body": ""}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    call = ConsoleCall.objects.get()
    assert call.status == 200 and call.ok
    assert call.response_headers["X-Zhongkong-Sandbox"] == "generated"
    assert json.loads(call.response_body) == {
        "attendees": [
            {"displayName": "", "id": "", "isOptional": False, "responseStatus": "", "self": False}
        ],
        "nextToken": "",
    }
    assert call.trace_id == call.response_headers["x-acs-request-id"]


def test_the_declared_reply_keeps_the_platforms_auth_rules(client, feishu):
    answer = client.get(f"/sandbox/feishu{CATALOGUED}")
    assert answer.status_code == 400 and answer.json()["code"] == 99991661  # no token
    bad = client.get(f"/sandbox/feishu{CATALOGUED}", HTTP_AUTHORIZATION="Bearer t-nope")
    assert bad.json()["code"] == 99991663


def test_a_path_no_api_has_is_the_platforms_404(client_as, feishu):
    text = _send(client_as("developer"), UNKNOWN)
    call = ConsoleCall.objects.get()
    assert call.status == 404 and not call.ok
    assert "404 page not found" in text
    assert call.classification == "client_error"
    assert "请检查请求方法和路径" in text and "HTML" not in text


@pytest.mark.parametrize("platform", ["feishu", "dingtalk", "wecom", "wechat", "feishu_project"])
def test_the_catalogue_says_which_apis_the_sandbox_emulates(client, platform):
    """An API marked emulated reaches an emulator's view; one marked "shape" gets the
    declared reply (here refused for want of a token, as the platform refuses it, before
    any shape); one marked "unknown" gets the platform's unknown-path answer."""
    from apps.console import catalogue

    apis = catalogue.entries(platform)
    marked = {api.id: catalogue.sandbox_answer(platform, api) for api in apis}
    assert set(marked.values()) <= {"emulated", "shape", "unknown"}
    by = {kind: [a for a in apis if marked[a.id] == kind] for kind in set(marked.values())}
    assert by["emulated"] and (by.get("shape") or by.get("unknown"))
    if platform == "feishu":
        assert len(by["shape"]) > 1500 and len(by.get("unknown", [])) < 50
    if platform == "dingtalk":  # the new API's models declare replies; the classic API none
        assert len(by["shape"]) > 3000 and all(a.family == "new" for a in by["shape"])
    sample = by["emulated"] + [
        api for kind in ("shape", "unknown") for api in by.get(kind, [])[::40]
    ]
    for api in sample:
        path = "/sandbox/" + platform + api.path.replace("{", "").replace("}", "")
        answer = client.generic(api.method, path)
        not_emulated = (
            answer.headers.get("X-Zhongkong-Sandbox") == "not-emulated"
            or (answer.status_code == 404 and b"page not found" in answer.content[:100])
            or b"InvalidAction.NotFound" in answer.content
        )
        kind = marked[api.id]
        assert not_emulated is (kind == "unknown"), (api.method, api.path, answer.status_code)
        if kind == "shape":  # no token: refused first, as the platform does
            refused = {"feishu": 99991661, "dingtalk": "InvalidAuthentication"}[platform]
            assert answer.json()["code"] == refused, (api.method, api.path)


def test_the_api_card_says_whether_the_sandbox_emulates_it(client_as, feishu):
    client = client_as("developer")
    sent = client.get("/console/?credential=fs&api=im.v1.create_message").content.decode()
    assert 'data-testid="api-sandbox"' in sent and "沙箱按平台规则模拟此 API" in sent
    other = client.get("/console/?credential=fs&api=im.v1.get_message").content.decode()
    assert "未模拟" in other and "X-Zhongkong-Sandbox: generated" in other
    results = client.get("/console/catalogue/", {"credential": "fs", "q": "发送消息"})
    assert 'class="badge ok"' in results.content.decode()
