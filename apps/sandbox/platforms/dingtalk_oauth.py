"""DingTalk's user tokens, emulated: the authorise page (login.dingtalk.com/oauth2/auth), the
user-token endpoint (`/v1.0/oauth2/userAccessToken`, `grantType` authorization_code or
refresh_token, camelCase fields as alibabacloud-dingtalk's GetUserTokenRequest/Response
declare them) and `/v1.0/contact/users/me`.

Every exchange carries a refresh token (DingTalk has no offline scope), and a refresh token
works once here as on Feishu. The refusal of an unknown code is the one DingTalk's workspace
CLI tests quote (`invalidParameter.authCode.notFound`); no public source quotes the refusal of
a spent or revoked refresh token, so the emulator answers it in the same shape with a code of
its own (`invalidParameter.refreshToken.notFound`), which the adapter does not treat as final."""

from __future__ import annotations

from .. import core, oauth
from . import consent

P = "dingtalk"
DEMO_USERS = [
    {"unionId": f"dtunion{i:04d}", "openId": f"dtopen{i:04d}", "nick": f"钉钉用户{i}"}
    for i in range(1, 6)
]


def _error(code: str, message: str, status: int = 400):
    return core.jsonr(
        {"code": code, "message": message, "requestid": core.uuid_upper()}, status=status
    )


@core.endpoint(P, ("GET", "POST"))
def authorize(request):
    users = [(u["unionId"], u["nick"]) for u in DEMO_USERS]
    return consent.authorize(request, P, users, title="钉钉授权")


@core.endpoint(P, ("POST",))
def user_access_token(request):
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("clientId") or not body.get("grantType"):
        return _error("MissingParameter", "clientId, clientSecret and grantType are required")
    app = core.find_app(P, body.get("clientId"))
    if app is None or not core.secret_matches(app, body.get("clientSecret")):
        return _error("invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    if body["grantType"] == "authorization_code":
        why, code = oauth.redeem_code(
            app, code=str(body.get("code") or ""), redirect_uri=None, code_verifier=""
        )
        if code is None:
            return _error("invalidParameter.authCode.notFound", f"authCode not found ({why})")
        user_id, scopes = code.user_id, code.scopes
    elif body["grantType"] == "refresh_token":
        why, spent = oauth.use_refresh(app, str(body.get("refreshToken") or ""))
        if spent is None:
            return _error("invalidParameter.refreshToken.notFound", f"refreshToken {why}")
        user_id, scopes = spent.user_id, spent.scopes
    else:
        return _error("invalidParameter.grantType", "grantType is not supported")
    issued = oauth.issue_user_tokens(app, user_id=user_id, scopes=scopes, offline_scope=None)
    return core.jsonr(
        {
            "accessToken": issued.access_token,
            "refreshToken": issued.refresh_token,
            "expireIn": issued.expires_in,
            "corpId": "dingdemocorp",
        }
    )


@core.endpoint(P, ("GET",))
def users_me(request):
    token = request.headers.get("x-acs-dingtalk-access-token", "")
    user = next((u for u in DEMO_USERS if u["unionId"] == oauth.user_of(token, P)), None)
    if user is None:
        return _error("InvalidAuthentication", "不合法的access_token")
    return core.jsonr(user | {"stateCode": "86", "visitor": False})
