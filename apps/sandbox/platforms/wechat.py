"""WeChat Official Account emulator: /sandbox/wechat/cgi-bin/..."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import path

from .. import core
from . import tickets, unknown

P = "wechat"


def err(code: int, message: str):
    return core.jsonr({"errcode": code, "errmsg": f"{message} rid: {core.wechat_rid()}"})


def _shape(raw: str) -> str:
    return "86_" + (raw + raw)[:120]


def _grant(app_id, secret, *, stable: bool, force: bool = False):
    app = core.find_app(P, app_id)
    if app is None:
        return err(40013, "invalid appid")
    count = core.count_fetch(app)
    if not core.secret_matches(app, secret):
        return err(40001, "invalid credential, access_token is invalid or not latest")
    if core.cap_reached(app, count):
        return err(45009, "reach max api daily quota limit")
    if stable:
        kind = "stable_token"
        if force:
            # Forced refreshes: at most 20 a day, at least 30 s apart (getStableAccessToken).
            if not cache.add(f"sandbox:{P}:{app.pk}:force:last", 1, timeout=30):
                return err(45011, "api minute-quota reach limit  mustslower  retry next minute")
            if core.over_limit(f"{P}:{app.pk}:force:day", 20, per=86400)[0]:
                return err(45009, "reach max api daily quota limit")
            core.invalidate_tokens(app, kind)
        # Same token on repeated calls; renewed when fewer than 300 s remain (5-min overlap).
        app.reissue_window = 300
        token, expires = core.issue_token(app, kind, mode=core.REUSE_UNTIL_WINDOW, shape=_shape)
    else:
        # Every fetch rotates; the previous token keeps working for 5 minutes.
        token, expires = core.issue_token(
            app, "access_token", mode=core.ROTATE, shape=_shape, old_grace=300
        )
    return core.jsonr({"access_token": token, "expires_in": expires})


@core.endpoint(P, ("GET",))
def classic_token(request):
    if request.GET.get("grant_type") != "client_credential":
        return err(40002, "invalid grant_type")
    return _grant(request.GET.get("appid", ""), request.GET.get("secret", ""), stable=False)


@core.endpoint(P, ("POST",))
def stable_token(request):
    body = core.body_json(request)
    if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
        return err(40002, "invalid grant_type")
    return _grant(
        body.get("appid", ""),
        body.get("secret", ""),
        stable=True,
        force=body.get("force_refresh") is True,
    )


@core.endpoint(P, ("GET",))
def api_domain_ip(request):
    state, _ = core.check_token(
        P, request.GET.get("access_token"), ("access_token", "stable_token")
    )
    if state == "missing":
        return err(41001, "access_token missing")
    if state == "expired":
        return err(42001, "access_token expired")
    if state != "valid":
        return err(40001, "invalid credential, access_token is invalid or not latest")
    return core.jsonr({"ip_list": ["101.226.103.0/25", "101.226.233.128/25", "58.247.206.128/25"]})


@core.endpoint(P, ("GET",))
def getticket(request):
    kind = request.GET.get("type", "")
    if kind not in ("jsapi", "wx_card"):
        return err(40097, "invalid args")
    return tickets.wechat_style(request, P, kind, err)


urlpatterns = [
    path("cgi-bin/ticket/getticket", getticket),
    path("cgi-bin/token", classic_token),
    path("cgi-bin/stable_token", stable_token),
    path("cgi-bin/get_api_domain_ip", api_domain_ip),
    path("cgi-bin/getcallbackip", api_domain_ip),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

handler404, handler500 = unknown.error_handlers(P)
