"""Official SDKs, unmodified, with only their domain (endpoint) changed to the emulator's
origin: alibabacloud-dingtalk (token, a contact call, a rejected token), wechatpy for WeChat
and WeCom (business calls; wechatpy hard-codes its token URLs, so the token comes from
Zhongkong's token API as a business server would get it), and lark-oapi's permission error
(the token, message and paged list journeys are in test_lark_sdk_fidelity.py)."""

from __future__ import annotations

import lark_oapi as lark
import pytest
from alibabacloud_dingtalk.contact_1_0 import client as contact_client
from alibabacloud_dingtalk.contact_1_0 import models as contact_models
from alibabacloud_dingtalk.oauth2_1_0 import client as oauth_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_tea_openapi import models as open_api_models
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
from Tea.exceptions import TeaException
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient

pytestmark = pytest.mark.django_db(transaction=True)


def _dingtalk_config(origin: str) -> open_api_models.Config:
    config = open_api_models.Config()
    config.protocol = "http"
    config.endpoint = origin.removeprefix("http://")  # the only change: the endpoint
    config.region_id = "central"
    return config


def test_dingtalk_sdk_gets_a_token_reads_a_user_and_sees_a_rejected_token(
    sandbox_app, sandbox_origin
):
    app, secret, _ = sandbox_app("dingtalk", "dingsdkfidelity01")
    origin = sandbox_origin("dingtalk")
    oauth = oauth_client.Client(_dingtalk_config(origin))
    reply = oauth.get_access_token(
        oauth_models.GetAccessTokenRequest(app_key=app.app_id, app_secret=secret)
    )
    token = reply.body.access_token
    assert token and reply.body.expire_in == 7200

    contact = contact_client.Client(_dingtalk_config(origin))
    headers = contact_models.GetUserHeaders(x_acs_dingtalk_access_token=token)
    user = contact.get_user_with_options("dtunion0001", headers, _runtime())
    assert user.status_code == 200 and user.body.union_id == "dtunion0001"
    assert "x-request-id" not in {k.lower() for k in user.headers}  # the platform's headers only

    with pytest.raises(TeaException) as rejected:
        contact.get_user_with_options(
            "dtunion0001",
            contact_models.GetUserHeaders(x_acs_dingtalk_access_token="not-a-token"),
            _runtime(),
        )
    assert rejected.value.code == "InvalidAuthentication"
    assert rejected.value.data["statusCode"] == 400  # as in live captures, not 401

    with pytest.raises(TeaException) as wrong:
        oauth.get_access_token(
            oauth_models.GetAccessTokenRequest(app_key=app.app_id, app_secret="not-the-secret")
        )
    assert wrong.value.code == "invalidClientIdOrSecret"


def _runtime():
    from alibabacloud_tea_util import models as util_models

    return util_models.RuntimeOptions()


def _wechat_token(sandbox_origin_url: str, path: str, params: dict) -> str:
    import requests

    return requests.get(f"{sandbox_origin_url}{path}", params=params, timeout=10).json()[
        "access_token"
    ]


def test_wechatpy_calls_the_wechat_emulator_with_a_handed_out_token(sandbox_app, sandbox_origin):
    app, secret, _ = sandbox_app("wechat", "wxsdkfidelity01")
    origin = sandbox_origin("wechat")
    token = _wechat_token(
        origin,
        "/cgi-bin/token",
        {"grant_type": "client_credential", "appid": app.app_id, "secret": secret},
    )
    client = WeChatClient(app.app_id, secret, access_token=token)
    client.API_BASE_URL = f"{origin}/cgi-bin/"  # the only change: the base URL
    assert client.misc.get_wechat_ips()

    # A rejected token: wechatpy recognises the emulator's reply as one (40001/40014/42001)
    # and goes to refresh, which it would do at api.weixin.qq.com (hard-coded): stopped here.
    bad = WeChatClient(app.app_id, secret, access_token="not-a-token")
    bad.API_BASE_URL = f"{origin}/cgi-bin/"

    class Refreshing(Exception):
        pass

    def refresh():
        raise Refreshing

    bad.fetch_access_token = refresh
    with pytest.raises(Refreshing):
        bad.misc.get_wechat_ips()


def test_wechatpy_reads_a_wecom_member_with_a_handed_out_token(sandbox_app, sandbox_origin):
    app, secret, _ = sandbox_app("wecom", "wwsdkfidelity01")
    origin = sandbox_origin("wecom")
    token = _wechat_token(origin, "/cgi-bin/gettoken", {"corpid": app.app_id, "corpsecret": secret})
    client = WeComClient(app.app_id, secret, access_token=token)
    client.API_BASE_URL = f"{origin}/cgi-bin/"
    member = client.user.get("zhangsan")
    assert member["userid"] == "zhangsan"


def test_lark_sdk_sees_the_permission_error_with_its_violations(sandbox_app, sandbox_origin):
    app, secret, _ = sandbox_app("feishu", "cli_sdk_scope01")
    client = (
        lark.Client.builder()
        .app_id(app.app_id)
        .app_secret(secret)
        .domain(sandbox_origin("feishu"))
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    reply = client.im.v1.message.create(
        CreateMessageRequest.builder()
        .receive_id_type("user_id")
        .request_body(
            CreateMessageRequestBody.builder()
            .receive_id("u0001")
            .msg_type("text")
            .content('{"text":"hi"}')
            .build()
        )
        .build()
    )
    assert reply.code == 99991672
    error = reply.error  # the SDK keeps the error object as the JSON it received
    violation = error["permission_violations"][0]
    assert violation == {
        "type": "field_scope_required",
        "subject": "contact:user.employee_id:readonly",
    }
    assert error["log_id"] == reply.get_log_id() and "troubleshooter" in error


def test_lark_sdk_uploads_an_image_to_the_emulator(sandbox_app, sandbox_origin):
    """lark-oapi's own multipart upload (im/v1/images), unmodified: the emulator reads what
    the SDK sends and answers with an image_key; a bad image_type gets the platform's
    234001 (larksuite/node-sdk#44)."""
    import io

    from lark_oapi.api.im.v1 import CreateImageRequest, CreateImageRequestBody

    app, secret, _ = sandbox_app("feishu", "cli_sdk_image01")
    client = (
        lark.Client.builder()
        .app_id(app.app_id)
        .app_secret(secret)
        .domain(sandbox_origin("feishu"))
        .log_level(lark.LogLevel.ERROR)
        .build()
    )

    def upload(image_type: str):
        return client.im.v1.image.create(
            CreateImageRequest.builder()
            .request_body(
                CreateImageRequestBody.builder()
                .image_type(image_type)
                .image(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(64)))
                .build()
            )
            .build()
        )

    reply = upload("message")
    assert reply.code == 0 and reply.data.image_key.startswith("img_v2_")
    refused = upload("nonsense")
    assert (refused.code, refused.msg) == (234001, "Invalid request param.")


def test_lark_sdk_calls_a_user_api_with_a_user_token_from_the_token_api(
    sandbox_app, sandbox_origin, live_server
):
    """lark-oapi, only its domain changed, reads the user behind a user token that a
    business server got from Zhongkong's token API (its RequestOption user token)."""
    import requests
    from lark_oapi.api.authen.v1 import GetUserInfoRequest

    from apps.tokens.services import client_key_create
    from apps.vault.services import credential_create
    from tests.tokens.test_user_grants import connect

    app, secret, _ = sandbox_app("feishu", "cli_sdk_user01")
    origin = sandbox_origin("feishu")
    credential = credential_create(
        by=None,
        provider="feishu",
        name="people",
        slug="people",
        environment="test",
        base_url=origin,
        public={"app_id": app.app_id},
        secrets={"app_secret": secret},
    )
    grant = connect(credential)
    _, key = client_key_create(name="sdk", credentials=[credential], user_tokens=True)
    handed = requests.get(
        f"{live_server.url}/api/v1/tokens/people/users/{grant.user_id}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()["access_token"]
    client = (
        lark.Client.builder()
        .app_id(app.app_id)
        .app_secret(secret)
        .domain(origin)
        .enable_set_token(True)  # the SDK's own switch for tokens passed per request
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    option = lark.RequestOption.builder().user_access_token(handed).build()
    reply = client.authen.v1.user_info.get(GetUserInfoRequest.builder().build(), option)
    assert reply.success(), (reply.code, reply.msg)
    assert reply.data.open_id == grant.user_id and reply.data.name == grant.name
