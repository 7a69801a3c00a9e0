"""Every adapter on recorded bytes (shapes from the platforms' docs, providers.md):
success, each error family, and malformed bodies."""

from __future__ import annotations

import pytest

from apps.providers.base import Classification as C
from apps.providers.base import OutboundRequest
from apps.providers.registry import get_provider

FEISHU_TOKEN_REJECTED = (
    b'{"code": 99991663, "msg": "Invalid access token for authorization. Please make a request '
    b'with token attached.", "error": {"log_id": "202408271038458450E8497E60835abcef", '
    b'"message": "Refer to the documentation to fix the error: https://open.feishu.cn/x"}}'
)
FEISHU_FIELD_VIOLATION = (
    '{"code": 99992402, "msg": "field validation failed", "error": {"logid": "20240101aa", '
    '"field_violations": [{"field": "receive_id_type", "description": "必填"}], '
    '"permission_violations": [{"type": "action_scope_required", "subject": "im:message", '
    '"description": "需要 im:message 权限"}], "helps": [{"url": "https://open.feishu.cn/h", '
    '"description": "帮助"}], "troubleshooter": "https://open.feishu.cn/t"}}'
).encode()

CASES = [
    # provider, status, headers, body, expectations
    (
        "feishu",
        200,
        {"X-Tt-Logid": "hdr-log-1"},
        b'{"code":0,"msg":"success","data":{"has_more":true,"page_token":"abc","items":[]}}',
        dict(
            ok=True,
            classification=C.OK,
            code="0",
            trace_id="hdr-log-1",
            trace_id_source="header:x-tt-logid",
            next_page={"page_token": "abc"},
        ),
    ),
    (
        "feishu",
        400,
        {"x-tt-logid": "hdr-log-2"},
        FEISHU_TOKEN_REJECTED,
        dict(
            ok=False,
            classification=C.TOKEN_REJECTED,
            code="99991663",
            trace_id="202408271038458450E8497E60835abcef",
            trace_id_source="body:error.log_id",
        ),
    ),
    (
        "feishu",
        400,
        {},
        FEISHU_FIELD_VIOLATION,
        dict(
            classification=C.CLIENT_ERROR,
            trace_id="20240101aa",
            trace_id_source="body:error.logid",
            troubleshooter="https://open.feishu.cn/t",
        ),
    ),
    (
        "feishu",
        429,
        {"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "7"},
        b'{"code": 99991400, "msg": "request trigger frequency limit"}',
        dict(classification=C.RATE_LIMITED, retry_after=7.0),
    ),
    (
        "feishu",
        400,
        {},
        b'{"code": 99991661, "msg": "Missing access token"}',
        dict(classification=C.CLIENT_ERROR),
    ),
    (
        "feishu",
        400,
        {},
        b'{"code": 99991403, "msg": "quota"}',
        dict(classification=C.QUOTA_EXHAUSTED),
    ),
    (
        "feishu",
        400,
        {},
        b'{"code": 10015, "msg": "app secret invalid"}',
        dict(classification=C.CREDENTIAL_INVALID),
    ),
    (
        "feishu_project",
        401,
        {"X-Tt-Logid": "fp-log"},
        b'{"err_code":10022,"err_msg":"Check Token Failed","err":{"code":10022,'
        b'"msg":"Check Token Failed","log_id":"body-log"},"data":null}',
        dict(classification=C.TOKEN_REJECTED, code="10022", trace_id="fp-log"),
    ),
    (
        "feishu_project",
        401,
        {},
        b'{"err":{"code":10022,"msg":"Check Token Failed","log_id":"body-log"}}',
        dict(
            classification=C.TOKEN_REJECTED,
            code="10022",
            trace_id="body-log",
            trace_id_source="body:err.log_id",
        ),
    ),
    (
        "feishu_project",
        429,
        {},
        b'{"err_code":10429,"err_msg":"API Request Frequency Limit"}',
        dict(classification=C.RATE_LIMITED),
    ),
    (
        "feishu_project",
        403,
        {},
        b'{"err_code":10211,"err_msg":"Token Info Is Invalid"}',
        dict(classification=C.CLIENT_ERROR),
    ),
    (
        "feishu_project",
        200,
        {},
        b'{"err_code":0,"err_msg":"","data":[{"id":1}],"pagination":{"page_num":1,"page_size":1,'
        b'"total":3}}',
        dict(ok=True, next_page={"page_num": 2, "page_size": 1}),
    ),
    (
        "feishu_project",
        200,
        {},
        b'{"data":{"token":"p-1","expire_time":7200},"error":{"code":0,"msg":"success"}}',
        dict(ok=True, code="0"),
    ),
    (
        "flashduty",
        200,
        {"Flashcat-Request-Id": "01HK8XQE3Z7JM2NTFQ5YJ8P9R4"},
        b'{"request_id":"01HK8XQE3Z7JM2NTFQ5YJ8P9R4","data":{"items":[],"total":0,'
        b'"has_next_page":false}}',
        dict(
            ok=True,
            trace_id="01HK8XQE3Z7JM2NTFQ5YJ8P9R4",
            trace_id_source="body:request_id",
            next_page=None,
        ),
    ),
    (
        "flashduty",
        401,
        {"Flashcat-Request-Id": "01HK8XQE3Z7JM2NTFQ5YJ8P9R5"},
        b'{"error":{"code":"Unauthorized","message":"You are unauthorized."}}',
        dict(
            classification=C.CREDENTIAL_INVALID,
            code="Unauthorized",
            trace_id="01HK8XQE3Z7JM2NTFQ5YJ8P9R5",
            trace_id_source="header:Flashcat-Request-Id",
        ),
    ),
    (
        "flashduty",
        400,
        {},
        b'{"request_id":"r","error":{"code":"ResourceNotFound","message":"x"}}',
        dict(classification=C.CLIENT_ERROR, code="ResourceNotFound"),
    ),
    (
        "flashduty",
        429,
        {},
        b'{"request_id":"r","error":{"code":"RequestTooFrequently"}}',
        dict(classification=C.RATE_LIMITED),
    ),
    (
        "flashduty",
        500,
        {},
        b'{"request_id":"r","error":{"code":"InternalError"}}',
        dict(classification=C.RETRYABLE),
    ),
    (
        "freelog",
        200,
        {},
        b'{"ret":0,"errCode":0,"errcode":0,"msg":"success","data":'
        b'{"skip":0,"limit":10,"totalItem":60,"dataList":[]}}',
        dict(ok=True, next_page={"skip": 10, "limit": 10}),
    ),
    (
        "freelog",
        200,
        {},
        '{"ret":0,"errCode":4,"errcode":4,"msg":"参数校验失败"}'.encode(),
        dict(ok=False, classification=C.CLIENT_ERROR, code="4"),
    ),
    (
        "freelog",
        200,
        {},
        '{"ret":4,"errCode":30,"msg":"认证失败","data":{"routeId":"r"}}'.encode(),
        dict(classification=C.TOKEN_REJECTED, code="30"),
    ),
    (
        "freelog",
        200,
        {},
        '{"ret":-10,"errCode":0,"msg":"维护中"}'.encode(),
        dict(classification=C.RETRYABLE, code="ret:-10"),
    ),
    (
        "itrigger",
        200,
        {},
        '{"code":200,"message":"操作成功","data":{"accessToken":"74065e4f764d4f00a313525e4ab0423e"}}'.encode(),
        dict(ok=True, code="200"),
    ),
    (
        "itrigger",
        200,
        {},
        '{"code":"200","message":"操作成功","data":[],"total":30,"pageNum":1,'
        '"pageSize":10,"pageCount":3}'.encode(),
        dict(ok=True, next_page={"pageNum": 2, "pageSize": 10}),
    ),
    (
        "itrigger",
        200,
        {},
        '{"code":40004,"message":"超过租户调用次数限制"}'.encode(),
        dict(classification=C.QUOTA_EXHAUSTED),
    ),
    (
        "itrigger",
        200,
        {},
        '{"code":40002,"message":"appId或appSecret格式不正确"}'.encode(),
        dict(classification=C.CREDENTIAL_INVALID),
    ),
    (
        "itrigger",
        401,
        {},
        '{"code":401,"message":"accessToken已失效"}'.encode(),
        dict(classification=C.TOKEN_REJECTED),
    ),
    (
        "itrigger",
        200,
        {},
        '{"code":61451,"message":"参数错误"}'.encode(),
        dict(classification=C.CLIENT_ERROR),
    ),
    ("wechat", 200, {}, b'{"access_token":"ACCESS_TOKEN","expires_in":7200}', dict(ok=True)),
    (
        "wechat",
        200,
        {},
        b'{"errcode":42001,"errmsg":"access_token expired rid: 61725984-6126f6f9-040f19c4"}',
        dict(
            classification=C.TOKEN_REJECTED,
            trace_id="61725984-6126f6f9-040f19c4",
            trace_id_source="body:errmsg rid",
        ),
    ),
    (
        "wechat",
        200,
        {},
        b'{"errcode":45009,"errmsg":"reach max api daily quota limit"}',
        dict(classification=C.QUOTA_EXHAUSTED),
    ),
    (
        "wechat",
        200,
        {},
        b'{"errcode":-1,"errmsg":"system error"}',
        dict(classification=C.RETRYABLE),
    ),
    (
        "wecom",
        200,
        {},
        b'{"errcode":0,"errmsg":"ok","access_token":"x","expires_in":7200}',
        dict(ok=True),
    ),
    (
        "wecom",
        200,
        {},
        b'{"errcode":40014,"errmsg":"invalid access_token"}',
        dict(classification=C.TOKEN_REJECTED),
    ),
    (
        "wecom",
        200,
        {},
        b'{"errcode":40001,"errmsg":"invalid secret"}',
        dict(classification=C.CREDENTIAL_INVALID),
    ),
    (
        "dingtalk",
        200,
        {},
        b'{"accessToken":"fw8ef8we8f76e6f7s8dxxxx","expireIn":7200}',
        dict(ok=True),
    ),
    (
        "dingtalk",
        401,
        {},
        '{"code":"InvalidAuthentication","message":"不合法的access_token",'
        '"requestid":"01A08FE7-7A31-7F4C-9E5D-0A3CCB7F2A11"}'.encode(),
        dict(classification=C.TOKEN_REJECTED, trace_id="01A08FE7-7A31-7F4C-9E5D-0A3CCB7F2A11"),
    ),
    (
        "dingtalk",
        200,
        {},
        '{"errcode":42001,"errmsg":"access_token超时","request_id":"abc123"}'.encode(),
        dict(classification=C.TOKEN_REJECTED, trace_id="abc123"),
    ),
]


@pytest.mark.parametrize(
    "provider,status,headers,body,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_recorded_response(provider, status, headers, body, expected):
    decoded = get_provider(provider).decode(status, headers, body)
    for name, value in expected.items():
        assert getattr(decoded, name) == value, (name, decoded)
    if decoded.code and not decoded.ok:
        assert decoded.explanation_zh and decoded.explanation_en


def test_feishu_error_object_is_fully_normalised():
    decoded = get_provider("feishu").decode(400, {}, FEISHU_FIELD_VIOLATION)
    assert decoded.field_violations == [
        {"field": "receive_id_type", "value": "", "description": "必填"}
    ]
    assert decoded.permission_violations[0]["subject"] == "im:message"
    assert decoded.helps == [{"url": "https://open.feishu.cn/h", "description": "帮助"}]


def test_feishu_project_10211_with_a_user_key_means_the_token_is_bad():
    request = OutboundRequest(
        "POST",
        "https://project.feishu.cn/open_api/x/work_item/filter",
        headers={"X-USER-KEY": "7001"},
    )
    decoded = get_provider("feishu_project").decode(
        403, {}, b'{"err_code":10211,"err_msg":"Token Info Is Invalid"}', request
    )
    assert decoded.classification is C.TOKEN_REJECTED


def test_flashduty_next_page_follows_the_request():
    request = OutboundRequest(
        "POST", "https://api.flashcat.cloud/incident/list", json={"p": 3, "limit": 20}
    )
    decoded = get_provider("flashduty").decode(
        200, {}, b'{"request_id":"r","data":{"items":[],"total":100,"has_next_page":true}}', request
    )
    assert decoded.next_page == {"p": 4} and decoded.next_page_in == "body"


MALFORMED = [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"<!DOCTYPE html><html><body>502</body></html>", "html"),
    (b'{"code": 0, "msg": "success", "data": {"items": [1, 2', "truncated"),
    (b"upstream said OK", "not_json"),
    (b"\xff\xfe\x00garbage", "not_utf8"),
    (b"[1, 2, 3]", "unexpected_shape"),
    (b'"a string"', "unexpected_shape"),
    (b'{"unrelated": true}', "unexpected_shape"),
]


@pytest.mark.parametrize(
    "provider", ["feishu", "feishu_project", "freelog", "itrigger", "flashduty"]
)
@pytest.mark.parametrize("body,problem", MALFORMED)
def test_malformed_bodies_say_what_was_wrong(provider, body, problem):
    decoded = get_provider(provider).decode(502, {"Content-Type": "text/html"}, body)
    assert not decoded.ok
    assert decoded.problem == problem
    assert decoded.classification is C.RETRYABLE  # a 502 is worth retrying
    assert decoded.explanation_en


def test_multi_megabyte_body_is_not_parsed():
    body = b'{"code":0,"data":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    decoded = get_provider("feishu").decode(200, {"x-tt-logid": "big"}, body)
    assert decoded.problem == "too_large" and not decoded.ok
    assert decoded.trace_id == "big"


def test_deeply_nested_json_does_not_crash():
    body = b"[" * 100_000 + b"]" * 100_000
    decoded = get_provider("wechat").decode(200, {}, body)
    assert not decoded.ok and decoded.problem in {"too_deep", "unexpected_shape"}


def test_every_platform_has_a_well_formed_endpoint_catalogue():
    from apps.providers.registry import PROVIDERS

    for provider in PROVIDERS.values():
        assert provider.endpoints, provider.key
        for endpoint in provider.endpoints:
            assert endpoint.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
            assert endpoint.path.startswith("/") and endpoint.title_zh and endpoint.title_en
