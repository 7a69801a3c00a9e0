"""WeCom emulator: /sandbox/wecom/cgi-bin/..."""

from __future__ import annotations

from django.urls import path

from .. import core, oauth
from . import bots, consent, tickets, unknown

P = "wecom"


def err(request, code: int, message: str):
    """WeCom's errmsg as live replies print it (AstrBotDevs/AstrBot#633, #3138): a numeric
    hint, the caller's address and the error-code page."""
    hint = f"{int(core.time.time())}{core.secrets.randbelow(10**15):015d}"[:25]
    return core.jsonr(
        {
            "errcode": code,
            "errmsg": (
                f"{message}, hint: [{hint}], from ip: {request.META.get('REMOTE_ADDR', '')}, "
                f"more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
            ),
        }
    )


@core.endpoint(P, ("GET",))
def gettoken(request):
    app = core.find_app(P, request.GET.get("corpid", ""))
    if app is None:
        return err(request, 40013, "invalid corpid")
    core.count_fetch(app)
    if not core.secret_matches(app, request.GET.get("corpsecret", "")):
        return err(request, 40001, "invalid credential")
    token, expires = core.issue_token(
        app, "access_token", mode=core.REUSE_WHILE_VALID, shape=lambda raw: (raw * 2)[:96]
    )
    return core.jsonr({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires})


@core.endpoint(P, ("GET",))
def user_get(request):
    state, _ = core.check_token(P, request.GET.get("access_token"), ("access_token",))
    if state == "missing":
        return err(request, 41001, "access_token missing")
    if state == "expired":
        return err(request, 42001, "access_token expired")
    if state != "valid":
        return err(request, 40014, "invalid access_token")
    userid = request.GET.get("userid", "")
    if not userid:
        return err(request, 41009, "missing userid")
    return core.jsonr(
        {
            "errcode": 0,
            "errmsg": "ok",
            "userid": userid,
            "name": "张三",
            "department": [1],
            "status": 1,
        }
    )


DEMO_MEMBERS = [(f"member{i:02d}", f"企业微信成员{i}") for i in range(1, 6)]


@core.endpoint(P, ("GET", "POST"))
def sso_login(request):
    """The web sign-in page (login.work.weixin.qq.com/wwlogin/sso/login): a member is picked
    and sent back with a code that says who they are."""
    keep = ("login_type", "appid", "agentid", "redirect_uri", "state")
    return consent.authorize(
        request, P, DEMO_MEMBERS, title="企业微信登录", client_param="appid", keep=keep
    )


@core.endpoint(P, ("GET",))
def auth_getuserinfo(request):
    """The member behind a sign-in code, asked with the app's token. A code works once,
    within 5 minutes (40029 "invalid code" otherwise, as WeCom's error-code page lists it)."""
    state, found = core.check_token(P, request.GET.get("access_token"), ("access_token",))
    if state == "missing":
        return err(request, 41001, "access_token missing")
    if state != "valid":
        return err(request, 42001 if state == "expired" else 40014, "invalid access_token")
    why, code = oauth.redeem_code(
        found.app, code=request.GET.get("code", ""), redirect_uri=None, code_verifier=""
    )
    if code is None:
        return err(request, 40029, "invalid code")
    return core.jsonr(
        {"errcode": 0, "errmsg": "ok", "userid": code.user_id, "user_ticket": "t" * 32}
    )


@core.endpoint(P, ("GET",))
def get_jsapi_ticket(request):
    return tickets.wechat_style(request, P, "jsapi", lambda c, m: err(request, c, m))


@core.endpoint(P, ("GET",))
def agent_ticket(request):
    if request.GET.get("type") != "agent_config":
        return err(request, 40058, "invalid type")
    return tickets.wechat_style(request, P, "agent_config", lambda c, m: err(request, c, m))


urlpatterns = [
    path("cgi-bin/get_jsapi_ticket", get_jsapi_ticket),
    path("cgi-bin/ticket/get", agent_ticket),
    path("wwlogin/sso/login", sso_login),
    path("cgi-bin/auth/getuserinfo", auth_getuserinfo),
    path("cgi-bin/webhook/send", core.endpoint(P, ("POST",))(bots.wecom_webhook)),
    path("cgi-bin/gettoken", gettoken),
    path("cgi-bin/user/get", user_get),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

handler404, handler500 = unknown.error_handlers(P)
