"""The emulated platforms' authorise page: a form that picks a demo user, who consents or
denies; the browser goes back to `redirect_uri` with `code` and `state` (or
`error=access_denied`). Feishu's and DingTalk's pages take the same parameters."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from .. import core, oauth

KEEP = ("client_id", "redirect_uri", "state", "scope", "code_challenge")


def _redirect_ok(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def authorize(
    request,
    provider: str,
    users: list[tuple[str, str]],
    *,
    title: str,
    client_param: str = "client_id",
    keep: tuple[str, ...] = KEEP,
):
    """GET: the consent page. POST: the chosen user's decision."""
    params = request.POST if request.method == "POST" else request.GET
    app = core.find_app(provider, params.get(client_param))
    redirect_uri = params.get("redirect_uri", "")
    if app is None or not _redirect_ok(redirect_uri):
        return HttpResponse("invalid client_id or redirect_uri", status=400)
    state = params.get("state", "")
    if request.method != "POST":
        return HttpResponse(_page(params, app.app_id, users, title, keep))
    joiner = "&" if "?" in redirect_uri else "?"
    if params.get("decision") != "allow":
        query = {"error": "access_denied", "state": state}
        return HttpResponseRedirect(redirect_uri + joiner + urlencode(query))
    user_id = params.get("user", "")
    if user_id not in dict(users):
        return HttpResponse("pick a user", status=400)
    code = oauth.issue_code(
        app,
        user_id=user_id,
        scopes=params.get("scope", ""),
        redirect_uri=redirect_uri,
        code_challenge=params.get("code_challenge", ""),
    )
    return HttpResponseRedirect(redirect_uri + joiner + urlencode({"code": code, "state": state}))


def _page(params, app_id: str, users: list[tuple[str, str]], title: str, keep) -> str:
    hidden = format_html_join(
        "", '<input type="hidden" name="{}" value="{}">', ((k, params.get(k, "")) for k in keep)
    )
    choices = format_html_join(
        "",
        '<label><input type="radio" name="user" value="{}"{}> {}</label><br>',
        ((uid, " checked" if i == 0 else "", label) for i, (uid, label) in enumerate(users)),
    )
    return format_html(
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<title>{} (sandbox)</title></head><body>"
        "<h1>授权应用 {} 访问你的数据 · Authorise {}</h1><p>scope: {}</p>"
        "<form method='post'>{}{}"
        "<button type='submit' name='decision' value='allow'>授权 Authorise</button> "
        "<button type='submit' name='decision' value='deny'>拒绝 Deny</button>"
        "</form></body></html>",
        title,
        app_id,
        app_id,
        params.get("scope", ""),
        hidden,
        choices,
    )
