"""Each emulator keeps its platform's token rules, caps, limits and faults."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from apps.sandbox.core import fetches
from apps.sandbox.models import SandboxFault

pytestmark = pytest.mark.django_db


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def feishu_token(client, creds):
    return _post(
        client,
        "/sandbox/feishu/open-apis/auth/v3/tenant_access_token/internal",
        {"app_id": creds["app_id"], "app_secret": creds["app_secret"]},
    ).json()


def test_feishu_returns_the_same_token_until_the_reissue_window(client, sandbox_app):
    app, _, creds = sandbox_app("feishu", token_lifetime=7200, reissue_window=1800)
    first, second = feishu_token(client, creds), feishu_token(client, creds)
    assert first["tenant_access_token"] == second["tenant_access_token"]
    assert first["tenant_access_token"].startswith("t-")
    assert second["expire"] <= first["expire"] <= 7200
    app.reissue_window = 7201  # as if fewer than 30 minutes remained
    app.save()
    third = feishu_token(client, creds)
    assert third["tenant_access_token"] != first["tenant_access_token"]
    # Both stay valid.
    for token in (first["tenant_access_token"], third["tenant_access_token"]):
        response = client.get(
            "/sandbox/feishu/open-apis/contact/v3/users",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["code"] == 0
    assert fetches("feishu", app.app_id) == 3


def test_feishu_tokens_expire_for_real(client, sandbox_app):
    _, _, creds = sandbox_app("feishu", token_lifetime=1)
    token = feishu_token(client, creds)["tenant_access_token"]
    time.sleep(1.1)
    response = client.get(
        "/sandbox/feishu/open-apis/contact/v3/users", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400 and response.json()["code"] == 99991663
    assert response["X-Tt-Logid"] == response.json()["error"]["log_id"]


def test_feishu_auth_comes_before_validation(client, sandbox_app):
    response = _post(client, "/sandbox/feishu/open-apis/im/v1/messages", {})
    assert response.json()["code"] == 99991661


def test_feishu_rate_limit_answers_99991400_with_headers(client, sandbox_app):
    _, _, creds = sandbox_app("feishu", qps_limit=2)
    token = feishu_token(client, creds)["tenant_access_token"]
    responses = [
        client.get(
            "/sandbox/feishu/open-apis/contact/v3/users",
            headers={"Authorization": f"Bearer {token}"},
        )
        for _ in range(5)
    ]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert limited[0].json()["code"] == 99991400
    assert limited[0]["x-ogw-ratelimit-limit"] == "2"
    assert int(limited[0]["x-ogw-ratelimit-reset"]) >= 1


def test_wechat_classic_fetch_rotates_and_keeps_the_old_token_five_minutes(client, sandbox_app):
    app, secret, _ = sandbox_app("wechat")
    url = (
        f"/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid={app.app_id}"
        f"&secret={secret}"
    )
    old, new = client.get(url).json()["access_token"], client.get(url).json()["access_token"]
    assert old != new
    for token in (old, new):
        assert (
            "ip_list"
            in client.get(f"/sandbox/wechat/cgi-bin/get_api_domain_ip?access_token={token}").json()
        )
    with connection.cursor() as cursor:  # five minutes pass for the old one
        cursor.execute(
            "UPDATE sandbox_sandboxtoken SET valid_until = expires_at - "
            "interval '2 hours' WHERE serial = 1"
            if connection.vendor == "postgresql"
            else "UPDATE sandbox_sandboxtoken SET valid_until = issued_at WHERE serial = 1"
        )
    body = client.get(f"/sandbox/wechat/cgi-bin/get_api_domain_ip?access_token={old}").json()
    assert body["errcode"] == 42001 and "rid: " in body["errmsg"]


def test_wechat_stable_token_is_stable_and_daily_cap_answers_45009(client, sandbox_app):
    app, secret, _ = sandbox_app("wechat", daily_cap=3)
    body = {"grant_type": "client_credential", "appid": app.app_id, "secret": secret}
    first = _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()
    second = _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()
    assert first["access_token"] == second["access_token"]
    _post(client, "/sandbox/wechat/cgi-bin/stable_token", body)
    capped = _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()
    assert capped["errcode"] == 45009


def test_itrigger_daily_cap_and_old_token_stays_valid(client, sandbox_app):
    app, secret, _ = sandbox_app("itrigger", daily_cap=2)
    url = (
        "/sandbox/itrigger/itrigger-tenant/v1/basic/accessTokenOpen/token/refresh"
        f"?appId={app.app_id}&appSecret={secret}"
    )
    first, second = client.get(url).json(), client.get(url).json()
    assert first["code"] == second["code"] == 200
    assert first["data"]["accessToken"] != second["data"]["accessToken"]
    assert len(first["data"]["accessToken"]) == 32
    for token in (first, second):
        ok = client.get(
            "/sandbox/itrigger/itrigger-tenant/v1/basic/openAPItest/test/get"
            f"?accessToken={token['data']['accessToken']}&a=1"
        ).json()
        assert ok["code"] == 200 and ok["data"]["params"] == {"a": "1"}
    assert client.get(url).json() == {"code": 40004, "message": "超过租户调用次数限制"}
    legacy = client.get(url.replace("/token/refresh", "/token").replace(secret, "wrong"))
    assert legacy.json()["code"] == 40002


def test_itrigger_post_ignores_query_parameters(client, sandbox_app):
    app, secret, _ = sandbox_app("itrigger")
    token = client.get(
        "/sandbox/itrigger/itrigger-tenant/v1/basic/accessTokenOpen/token/refresh"
        f"?appId={app.app_id}&appSecret={secret}"
    ).json()["data"]["accessToken"]
    body = _post(
        client,
        "/sandbox/itrigger/itrigger-tenant/v1/basic/openAPItest/test/post"
        f"?accessToken={token}&dropped=1",
        {"kept": 2},
    ).json()
    assert body["data"] == {"method": "POST", "body": {"kept": 2}, "ignoredQuery": ["dropped"]}


def test_feishu_project_idempotency_and_rate_limit(client, sandbox_app):
    # A low per-second limit, so that 20 calls exceed it however slow the machine is.
    app, secret, creds = sandbox_app("feishu_project", qps_limit=3)
    token = _post(
        client,
        "/sandbox/feishu_project/open_api/authen/plugin_token",
        {"plugin_id": app.app_id, "plugin_secret": secret, "type": 0},
    ).json()
    plugin_token = token["data"]["token"]
    assert plugin_token.startswith("p-") and token["error"] == {"code": 0, "msg": "success"}
    headers = {"X-PLUGIN-TOKEN": plugin_token, "X-USER-KEY": "7001", "X-IDEM-UUID": "u-1"}
    url = "/sandbox/feishu_project/open_api/demo/work_item/create"
    one = _post(client, url, {"work_item_type_key": "story", "name": "a"}, **headers).json()
    again = _post(client, url, {"work_item_type_key": "story", "name": "a"}, **headers).json()
    assert one["err_code"] == 0 and one == again
    clash = _post(client, url, {"work_item_type_key": "story", "name": "b"}, **headers)
    assert clash.status_code == 429 and clash.json()["err_code"] == 10430
    no_user = _post(
        client,
        "/sandbox/feishu_project/open_api/demo/work_item/filter",
        {},
        **{"X-PLUGIN-TOKEN": plugin_token},
    )
    assert no_user.status_code == 403 and no_user.json()["err_code"] == 10211
    codes = [
        _post(
            client,
            "/sandbox/feishu_project/open_api/demo/work_item/filter",
            {"page_num": 1, "page_size": 5},
            **headers,
        ).json()["err_code"]
        for _ in range(20)
    ]
    assert 10429 in codes  # the app's QPS per token per API (15 unless set)


def test_flashduty_pages_and_checks_content_type(client, sandbox_app):
    _, secret, _ = sandbox_app("flashduty")
    url = f"/sandbox/flashduty/incident/list?app_key={secret}"
    page = _post(client, url, {"p": 2, "limit": 10})
    body = page.json()
    assert page["Flashcat-Request-Id"] == body["request_id"] and len(body["request_id"]) == 26
    assert body["data"]["has_next_page"] and len(body["data"]["items"]) == 10
    wrong_type = client.post(url, "p=1", content_type="application/x-www-form-urlencoded")
    assert wrong_type.json()["error"]["code"] == "InvalidContentType"
    assert (
        client.post(
            "/sandbox/flashduty/incident/list", "{}", content_type="application/json"
        ).status_code
        == 401
    )
    unknown = _post(client, f"/sandbox/flashduty/nothing/here?app_key={secret}", {})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "RouteNotFound"


def test_freelog_login_modes_and_client_signature(client, sandbox_app):
    import hashlib
    import hmac

    app, secret, _ = sandbox_app("freelog")
    cookie = _post(
        client,
        "/sandbox/freelog/v2/passport/login",
        {"loginName": app.app_id, "password": secret, "isRemember": 1},
    )
    assert cookie.json()["ret"] == 0 and "authInfo" in cookie.cookies
    assert client.get("/sandbox/freelog/v2/resources").json()["data"]["totalItem"] == 60
    client.cookies.clear()
    denied = client.get("/sandbox/freelog/v2/resources").json()
    assert denied["ret"] == 4 and denied["errCode"] == 30 and "errcode" not in denied
    wrong = _post(
        client, "/sandbox/freelog/v2/passport/login", {"loginName": app.app_id, "password": "nope"}
    ).json()
    assert wrong["ret"] == 0 and wrong["errCode"] == 30

    signer, key, _ = sandbox_app("freelog", "client:8001")
    timeline = str(int(time.time()))
    sign = hmac.new(
        key.encode(), f"/v2/resources?skip=0&limit=5&timeline={timeline}".encode(), hashlib.sha1
    ).hexdigest()
    signed = client.get(
        "/sandbox/freelog/v2/resources?skip=0&limit=5",
        headers={"clientid": "8001", "timeline": timeline, "sign": sign},
    ).json()
    assert signed["ret"] == 0 and len(signed["data"]["dataList"]) == 5


@pytest.mark.parametrize(
    "kind,value,check",
    [
        ("status", 503, lambda r: r.status_code == 503 and b"Bad Gateway" in r.content),
        ("html", 0, lambda r: r.status_code == 502 and r.content.startswith(b"<!DOCTYPE html>")),
        ("truncated", 0, lambda r: r.status_code == 200 and not r.content.endswith(b"}")),
        ("not_json", 0, lambda r: r["Content-Type"].startswith("text/plain")),
        ("huge", 2, lambda r: len(b"".join(r.streaming_content)) > 2 * 1024 * 1024),
    ],
)
def test_injected_faults(client, sandbox_app, kind, value, check):
    _, _, creds = sandbox_app("feishu")
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind=kind, value=value, remaining=1
    )
    response = client.post(
        "/sandbox/feishu/open-apis/auth/v3/tenant_access_token/internal",
        json.dumps(creds),
        content_type="application/json",
    )
    assert check(response)
    # `remaining=1`: the next call is normal again.
    assert feishu_token(client, creds)["code"] == 0


def test_delay_fault_delays(client, sandbox_app):
    _, _, creds = sandbox_app("feishu")
    SandboxFault.objects.create(provider="feishu", kind="delay", value=300, remaining=1)
    started = time.monotonic()
    assert feishu_token(client, creds)["code"] == 0
    assert time.monotonic() - started >= 0.3


def test_sandbox_keeps_no_secret_or_token_in_its_tables(client, sandbox_app):
    _, secret, creds = sandbox_app("feishu")
    token = feishu_token(client, creds)["tenant_access_token"]
    with connection.cursor() as cursor:
        for table in ("sandbox_sandboxapp", "sandbox_sandboxtoken", "sandbox_sandboxcounter"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert secret not in dump and token not in dump


@pytest.mark.django_db(transaction=True)
def test_wecom_answers_a_wrong_secret_as_live_replies_do(sandbox_app, sandbox_origin):
    import requests

    from apps.providers.registry import get_provider

    app, _, _ = sandbox_app("wecom", "ww-live-shape")
    reply = requests.get(
        f"{sandbox_origin('wecom')}/cgi-bin/gettoken",
        params={"corpid": app.app_id, "corpsecret": "wrong"},
        timeout=10,
    )
    decoded = get_provider("wecom").decode(reply.status_code, reply.headers, reply.content)
    assert decoded.code == "40001" and decoded.message.startswith("invalid credential, hint: [")
    assert decoded.trace_id.isdigit() and decoded.caller_ip == "127.0.0.1"
    assert decoded.helps == [
        {"url": "https://open.work.weixin.qq.com/devtool/query?e=40001", "description": ""}
    ]


def test_wechat_stable_token_forced_refreshes_are_30_seconds_apart(client, sandbox_app):
    app, secret, _ = sandbox_app("wechat", "wx-force-limit")
    body = {
        "grant_type": "client_credential",
        "appid": app.app_id,
        "secret": secret,
        "force_refresh": True,
    }
    first = _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()
    too_soon = _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()
    assert "access_token" in first
    assert too_soon["errcode"] == 45011
    body["force_refresh"] = False  # a normal call is not limited and gets the forced token
    assert (
        _post(client, "/sandbox/wechat/cgi-bin/stable_token", body).json()["access_token"]
        == first["access_token"]
    )


def test_feishu_project_filter_allows_450_a_minute_per_token(client, sandbox_app):
    app, secret, _ = sandbox_app("feishu_project", "fp-filter-minute", qps_limit=100_000)
    token = _post(
        client,
        "/sandbox/feishu_project/open_api/authen/plugin_token",
        {"plugin_id": app.app_id, "plugin_secret": secret, "type": 0},
    ).json()
    headers = {"X-PLUGIN-TOKEN": token["data"]["token"], "X-USER-KEY": "7001"}
    if time.time() % 60 > 45:  # the window is the clock's minute: start well inside one
        time.sleep(61 - time.time() % 60)
    codes = [
        _post(
            client,
            "/sandbox/feishu_project/open_api/demo/work_item/filter",
            {"page_num": 1, "page_size": 5},
            **headers,
        ).json()["err_code"]
        for _ in range(451)
    ]
    assert codes[:450] == [0] * 450 and codes[450] == 10429
