"""The official Feishu Python SDK (lark-oapi, unmodified) cannot tell the sandbox from Feishu
on the paths it uses: token, send message, get and list users, and the real error codes."""

from __future__ import annotations

import json

import lark_oapi as lark
import pytest
from lark_oapi.api.contact.v3 import GetUserRequest, ListUserRequest
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
from lark_oapi.core.exception import ObtainAccessTokenException

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def feishu_origin(sandbox_origin):
    """The SDK takes an origin, not a path: the Feishu emulator's own origin."""
    return sandbox_origin("feishu")


def _client(base: str, app_id: str, secret: str):
    return (
        lark.Client.builder()
        .app_id(app_id)
        .app_secret(secret)
        .domain(base)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


@pytest.fixture(autouse=True)
def _fresh_sdk_token_cache():
    # The SDK caches tokens in a process-wide class attribute, keyed by app id.
    from lark_oapi.core.token.manager import TokenManager

    TokenManager.cache = type(TokenManager.cache)()
    yield


def test_sdk_obtains_a_token_sends_a_message_and_lists_users(sandbox_app, feishu_origin):
    app, secret, _ = sandbox_app("feishu", "cli_sdk_fidelity01")
    client = _client(feishu_origin, app.app_id, secret)

    body = (
        CreateMessageRequestBody.builder()
        .receive_id("ou_0000000000000000000000000000001")
        .msg_type("text")
        .content(json.dumps({"text": "来自中控台沙箱"}))
        .build()
    )
    sent = client.im.v1.message.create(
        CreateMessageRequest.builder().receive_id_type("open_id").request_body(body).build()
    )
    assert sent.success(), (sent.code, sent.msg)
    assert sent.data.message_id.startswith("om_")
    assert sent.get_log_id()

    listed = client.contact.v3.user.list(ListUserRequest.builder().page_size(10).build())
    assert listed.success(), (listed.code, listed.msg)
    assert len(listed.data.items) == 10 and listed.data.has_more and listed.data.page_token
    second = client.contact.v3.user.list(
        ListUserRequest.builder().page_size(10).page_token(listed.data.page_token).build()
    )
    assert second.data.items[0].user_id != listed.data.items[0].user_id

    got = client.contact.v3.user.get(
        GetUserRequest.builder().user_id(listed.data.items[0].open_id).build()
    )
    assert got.success() and got.data.user.name == listed.data.items[0].name


def test_sdk_surfaces_the_real_error_code_for_a_wrong_secret(sandbox_app, feishu_origin):
    app, _, _ = sandbox_app("feishu", "cli_sdk_fidelity02")
    client = _client(feishu_origin, app.app_id, "not-the-secret")
    with pytest.raises(ObtainAccessTokenException) as excinfo:
        client.contact.v3.user.list(ListUserRequest.builder().page_size(5).build())
    assert excinfo.value.code == 10015


def test_sdk_sees_field_violations(sandbox_app, feishu_origin):
    app, secret, _ = sandbox_app("feishu", "cli_sdk_fidelity03")
    client = _client(feishu_origin, app.app_id, secret)
    body = (
        CreateMessageRequestBody.builder()
        .receive_id("ou_x")
        .msg_type("nonsense")
        .content("{}")
        .build()
    )
    response = client.im.v1.message.create(
        CreateMessageRequest.builder().receive_id_type("open_id").request_body(body).build()
    )
    assert response.code == 99992402
    assert response.error["field_violations"][0]["field"] == "msg_type"
    assert response.get_log_id() == response.error["log_id"]
