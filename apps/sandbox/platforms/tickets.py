"""The emulated platforms' JS-SDK ticket endpoints: a ticket for a valid app token (each
fetch a new one, the previous one valid until its own expiry, as the platforms document a
ticket's 7,200 s life), refused with the platform's own token error otherwise. The tickets
issued are kept (by hash) so that tests count the fetches a herd of callers caused."""

from __future__ import annotations

from django.http import HttpResponse

from .. import core


def issue(app, kind: str) -> tuple[str, int]:
    return core.issue_token(
        app, f"ticket:{kind}", mode=core.ROTATE, shape=lambda raw: raw[:40], old_grace=None
    )


def fetches(app, kind: str = "jsapi") -> int:
    """How many tickets of `kind` the emulated platform issued to `app`."""
    return core.SandboxToken.objects.filter(app=app, kind=f"ticket:{kind}").count()


def wechat_style(request, provider: str, kind: str, err) -> HttpResponse:
    """WeChat's and WeCom's errcode replies: a ticket for a valid access_token."""
    kinds = ("access_token", "stable_token")
    state, found = core.check_token(provider, request.GET.get("access_token"), kinds)
    if state == "missing":
        return err(41001, "access_token missing")
    if state == "expired":
        return err(42001, "access_token expired")
    if state != "valid":
        return err(40001, "invalid credential, access_token is invalid or not latest")
    ticket, expires = issue(found.app, kind)
    return core.jsonr({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": expires})
