"""Feishu's user tokens, emulated: the authorise page (a form that picks a demo user), the
OAuth v2 token endpoint and user_info.

The refresh rules are the platform's: a refresh token works once and the reply carries the
next; with no `offline_access` there is none. The refresh refusals are the codes Feishu's own
clients know (larksuite/cli internal/output/lark_errors.go): 20026 invalid, 20037 expired,
20064 revoked, 20073 already used; their bodies carry `code`, `error` and
`error_description`, the fields those clients read. 20064's wording is the one a developer's
diagnosis printed (tests/captures/feishu.json); no public source quotes the other refresh
refusals' wording, so those descriptions are ours. A code's refusals (wrong, expired, used,
another app's, redirect or PKCE mismatch) are HTTP 400 with the codes and descriptions of the
token endpoint's documented error table (get-user-access-token, 错误码), `invalid_grant` as
a probe with a forged code received it (tests/captures/feishu.json)."""

from __future__ import annotations

from django.urls import path

from .. import core, oauth
from . import consent
from .feishu_directory import USERS

P = "feishu"
OFFLINE = "offline_access"
DEMO_USERS = USERS[:5]
REFRESH_REFUSALS = {
    "invalid": (20026, "The refresh token passed is invalid."),
    "expired": (20037, "The refresh token passed has expired."),
    # As a developer's diagnosis printed it (hoastyle/feishu-doc-tools REFRESH_TOKEN_FIX.md).
    "revoked": (
        20064,
        "The refresh token has been revoked. Please note that a refresh token can only be used once.",
    ),
    "used": (20073, "The refresh token has been used."),
}
# The token endpoint's documented error table (open.feishu.cn get-user-access-token, 错误码).
CODE_REFUSALS = {
    "invalid": (
        20003,
        "The authorization code is not found. Please note that an authorization code can only "
        "be used once.",
    ),
    "expired": (20004, "The authorization code has expired."),
    "used": (
        20065,
        "The authorization code has been used. Please note that an authorization code can only "
        "be used once.",
    ),
    "foreign": (
        20024,
        "The provided authorization code or refresh token does not match the provided client ID.",
    ),
    "redirect": (
        20071,
        "The provided redirect URI does not match the one used during authorization.",
    ),
    "pkce": (20049, "PKCE code challenge failed."),
}


def _oauth_error(code: int, error: str, description: str, status: int = 400):
    return core.jsonr(
        {"code": code, "error": error, "error_description": description},
        status=status,
        headers={"X-Tt-Logid": core.feishu_logid()},
    )


@core.endpoint(P, ("GET", "POST"))
def authorize(request):
    users = [(u["open_id"], f"{u['name']} ({u['en_name']})") for u in DEMO_USERS]
    return consent.authorize(request, P, users, title="飞书授权")


@core.endpoint(P, ("POST",))
def token(request):
    body = core.body_json(request)
    if not isinstance(body, dict):
        body = request.POST  # the official clients also send a form
    app = core.find_app(P, body.get("client_id"))
    if app is None or not core.secret_matches(app, body.get("client_secret")):
        return _oauth_error(20002, "invalid_client", "The client_id or client_secret is wrong.")
    grant_type = body.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange(app, body)
    if grant_type == "refresh_token":
        return _refresh(app, body)
    return _oauth_error(20001, "unsupported_grant_type", "grant_type is not supported.")


def _issued(issued: oauth.Issued):
    reply = {"code": 0, "access_token": issued.access_token, "expires_in": issued.expires_in}
    if issued.refresh_token:
        reply |= {
            "refresh_token": issued.refresh_token,
            "refresh_token_expires_in": issued.refresh_expires_in,
        }
    reply |= {"token_type": "Bearer", "scope": issued.scopes}
    return core.jsonr(reply, headers={"X-Tt-Logid": core.feishu_logid()})


def _exchange(app, body):
    why, code = oauth.redeem_code(
        app,
        code=str(body.get("code") or ""),
        redirect_uri=str(body.get("redirect_uri") or ""),
        code_verifier=str(body.get("code_verifier") or ""),
    )
    if code is None:
        number, description = CODE_REFUSALS[why]
        return _oauth_error(number, "invalid_grant", description)
    return _issued(
        oauth.issue_user_tokens(
            app, user_id=code.user_id, scopes=code.scopes, offline_scope=OFFLINE
        )
    )


def _refresh(app, body):
    why, spent = oauth.use_refresh(app, str(body.get("refresh_token") or ""))
    if spent is None:
        code, description = REFRESH_REFUSALS[why]
        return _oauth_error(code, "invalid_grant", description)
    return _issued(
        oauth.issue_user_tokens(
            app, user_id=spent.user_id, scopes=spent.scopes, offline_scope=OFFLINE
        )
    )


@core.endpoint(P, ("GET",))
def user_info(request):
    bearer = core.bearer(request) or ""
    user_id = oauth.user_of(bearer, P)
    user = next((u for u in USERS if u["open_id"] == user_id), None)
    if user is None:
        return core.jsonr(
            {"code": 99991668, "msg": "Invalid access token for authorization."},
            status=400,
            headers={"X-Tt-Logid": core.feishu_logid()},
        )
    fields = ("name", "en_name", "open_id", "union_id", "user_id", "email")
    return core.jsonr(
        {
            "code": 0,
            "msg": "success",
            "data": {k: user[k] for k in fields} | {"tenant_key": "demo"},
        },
        headers={"X-Tt-Logid": core.feishu_logid()},
    )


urlpatterns = [
    path("open-apis/authen/v1/authorize", authorize),
    path("open-apis/authen/v2/oauth/token", token),
    path("open-apis/authen/v1/user_info", user_info),
]
