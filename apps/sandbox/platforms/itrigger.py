"""企加云 iTrigger gateway emulator: /sandbox/itrigger/itrigger-tenant/..."""

from __future__ import annotations

import re

from django.urls import path

from .. import core
from . import unknown

P = "itrigger"
OK_MESSAGE = "操作成功"


def reply(code, message, data=None, status=200, **extra):
    body = {"code": code, "message": message, **extra}
    if data is not None:
        body["data"] = data
    return core.jsonr(body, status=status)


@core.endpoint(P, ("GET",))
def token(request):
    app_id, secret = request.GET.get("appId", ""), request.GET.get("appSecret", "")
    if not app_id or not secret:
        return reply(40001, "appId或appSecret为空")
    app = core.find_app(P, app_id)
    if app is None or not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", app_id):
        return reply(40002, "appId或appSecret格式不正确")
    count = core.count_fetch(app)
    if not core.secret_matches(app, secret):
        return reply(40002, "appId或appSecret格式不正确")
    if app.frozen:
        return reply(40003, "应用appId已被冻结")
    if core.cap_reached(app, count):
        return reply(40004, "超过租户调用次数限制")
    # A refresh issues a new token; the old one stays usable until its own expiry.
    value, _ = core.issue_token(app, "accessToken", mode=core.ROTATE, shape=lambda raw: raw[:32])
    return reply(200, OK_MESSAGE, {"accessToken": value})


def _authorise(request):
    """POST carries only accessToken in the URL, like GET.

    A guess: iTrigger documents no reply for a missing or rejected token (providers.md §C3).
    This answers HTTP 401 with a message naming the token; the adapter treats 401/403 or a
    message about the token as "rejected", and if the real reply differs it is decoded as a
    client error instead, so a send fails visibly rather than refreshing in a loop."""
    state, found = core.check_token(P, request.GET.get("accessToken", ""), ("accessToken",))
    if state == "missing":
        return None, reply(401, "accessToken不能为空", status=401)
    if state != "valid":
        return None, reply(401, "accessToken已失效", status=401)
    return found, None


@core.endpoint(P, ("GET",))
def test_get(request):
    _, denied = _authorise(request)
    if denied:
        return denied
    params = {k: v for k, v in request.GET.items() if k != "accessToken"}
    return reply(200, OK_MESSAGE, {"method": "GET", "params": params})


@core.endpoint(P, ("POST",))
def test_post(request):
    _, denied = _authorise(request)
    if denied:
        return denied
    body = core.body_json(request)
    if not isinstance(body, dict):
        return reply(61451, "参数错误")
    ignored = sorted(k for k in request.GET if k != "accessToken")
    return reply(200, OK_MESSAGE, {"method": "POST", "body": body, "ignoredQuery": ignored})


@core.endpoint(P, ("GET",))
def points(request):
    _, denied = _authorise(request)
    if denied:
        return denied
    try:
        num, size = int(request.GET.get("pageNum", "1")), int(request.GET.get("pageSize", "10"))
    except ValueError:
        return reply(61451, "参数错误")
    if num < 1 or not 1 <= size <= 100:
        return reply(61451, "参数错误")
    rows = [{"id": i, "points": 10 * i, "remark": f"积分流水 {i}"} for i in range(1, 26)]
    count = (len(rows) + size - 1) // size
    return reply(
        200,
        OK_MESSAGE,
        rows[(num - 1) * size : num * size],
        total=len(rows),
        pageNum=num,
        pageSize=size,
        pageCount=count,
    )


urlpatterns = [
    path("itrigger-tenant/v1/basic/accessTokenOpen/token/refresh", token),
    path("itrigger-tenant/v1/basic/accessTokenOpen/token", token),
    path("itrigger-tenant/v1/basic/openAPItest/test/get", test_get),
    path("itrigger-tenant/v1/basic/openAPItest/test/post", test_post),
    path("itrigger-bff/v2/open/api/member/points/list", points),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

handler404, handler500 = unknown.error_handlers(P)
