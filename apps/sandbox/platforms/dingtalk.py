"""DingTalk emulator: new API (/sandbox/dingtalk/v1.0/...) and old API (/sandbox/dingtalk/...)."""

from __future__ import annotations

from django.urls import path

from .. import core, oauth
from . import bots, declared, dingtalk_oauth, tickets, unknown

P = "dingtalk"


def new_error(code: str, message: str, status: int):
    return core.jsonr(
        {"code": code, "message": message, "requestid": core.uuid_upper()}, status=status
    )


def _grant(app_key, secret, *, old: bool):
    app = core.find_app(P, app_key)
    if app is not None:
        core.count_fetch(app)
    if app is None or not core.secret_matches(app, secret):
        if old:
            return core.jsonr(
                {
                    "errcode": 40001,
                    "errmsg": "不合法的appkey或appsecret",
                    "request_id": core.uuid_upper(),
                }
            )
        return new_error("invalidClientIdOrSecret", "无效的clientId或者clientSecret", 400)
    # Fetches within validity return the same token and extend it.
    token, expires = core.issue_token(
        app, "access_token", mode=core.EXTEND, shape=lambda raw: raw[:32]
    )
    if old:
        return core.jsonr(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires}
        )
    return core.jsonr({"accessToken": token, "expireIn": expires})


@core.endpoint(P, ("POST",))
def access_token(request):
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("appKey") or not body.get("appSecret"):
        return new_error("MissingParameter", "appKey and appSecret are required", 400)
    return _grant(body["appKey"], body["appSecret"], old=False)


@core.endpoint(P, ("GET",))
def old_gettoken(request):
    return _grant(request.GET.get("appkey", ""), request.GET.get("appsecret", ""), old=True)


def _authorise(request, kinds=("access_token", oauth.USER_TOKEN_KIND)):
    """The new API's token check. Returns (the token, None) or (None, error response)."""
    token = request.headers.get("x-acs-dingtalk-access-token", "")
    state, found = core.check_token(P, token, kinds)
    if state != "valid":
        # HTTP 400 as live captures show (satorijs/satori#240, alibabacloud-sdk-php/dingtalk#1)
        return None, new_error("InvalidAuthentication", "不合法的access_token", 400)
    return found, None


@core.endpoint(P, ("GET",))
def contact_user(request, union_id: str):
    _, denied = _authorise(request)
    if denied is not None:
        return denied
    return core.jsonr({"unionId": union_id, "nick": "钉钉用户", "stateCode": "86"})


@core.endpoint(P, ("POST",))
def old_user_get(request):
    state, _ = core.check_token(P, request.GET.get("access_token"), ("access_token",))
    if state == "missing":
        return core.jsonr(
            {"errcode": 41001, "errmsg": "缺少参数access_token", "request_id": core.uuid_upper()}
        )
    if state != "valid":
        return core.jsonr(
            {
                "errcode": 40014 if state == "unknown" else 42001,
                "errmsg": "不合法的access_token",
                "request_id": core.uuid_upper(),
            }
        )
    body = core.body_json(request) or {}
    return core.jsonr(
        {
            "errcode": 0,
            "errmsg": "ok",
            "request_id": core.uuid_upper(),
            "result": {"userid": body.get("userid", ""), "name": "钉钉用户"},
        }
    )


@core.endpoint(P, ("POST",))
def jsapi_tickets(request):
    found, denied = _authorise(request, ("access_token",))
    if denied is not None:
        return denied
    ticket, expires = tickets.issue(found.app, "jsapi")
    return core.jsonr({"jsapiTicket": ticket, "expireIn": expires})


urlpatterns = [
    path("v1.0/oauth2/jsapiTickets", jsapi_tickets),
    path("robot/send", core.endpoint(P, ("POST",))(bots.dingtalk_robot)),
    path("v1.0/oauth2/accessToken", access_token),
    path("v1.0/contact/users/me", dingtalk_oauth.users_me),
    path("v1.0/contact/users/<str:union_id>", contact_user),
    path("gettoken", old_gettoken),
    path("topapi/v2/user/get", old_user_get),
    path("oauth2/auth", dingtalk_oauth.authorize),
    path("v1.0/oauth2/userAccessToken", dingtalk_oauth.user_access_token),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

unknown.DECLARED[P] = lambda request: declared.dingtalk(request, _authorise)

handler404, handler500 = unknown.error_handlers(P)
