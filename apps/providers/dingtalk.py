"""DingTalk / 钉钉: new API (api.dingtalk.com, header token) or old API (oapi.dingtalk.com,
query token). providers.md §F3."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

from .base import (
    PERMISSION_KEYS,
    Body,
    Classification,
    Decoded,
    Endpoint,
    Field,
    Notice,
    OutboundRequest,
    Provider,
    RateLimit,
    RefreshPolicy,
    TokenGrant,
    UserIdentity,
    UserOAuth,
    UserTokenGrant,
    catalog,
    dict_list,
    dig,
    first_header,
    join_url,
    keyed_webhook,
    notice_lines,
    read_json,
    text,
    to_int,
    web_url,
    with_query_token,
)
from .jsapi import JsapiKind, JsapiSpec, TicketGrant
from .wechat import ErrcodeDecoderMixin

C = Classification
NEW_API, OLD_API = "https://api.dingtalk.com", "https://oapi.dingtalk.com"
LOGIN_HOST = "https://login.dingtalk.com"
USER_TOKEN_PATH = "/v1.0/oauth2/userAccessToken"

CATALOG = catalog(
    (
        "https://open.dingtalk.com/document/orgapp/server-api-error-codes-1 (服务端错误码)",
        {
            0: ("成功。", "Success.", C.OK),
            -1: ("系统繁忙，请稍后重试。", "System busy; retry later.", C.RETRYABLE),
            22: (
                "请求的参数不合法或调用方式不对，请对照接口文档。",
                "Invalid request parameters or call style; compare with the API's docs.",
                C.CLIENT_ERROR,
            ),
            88: (
                "access_token 不合法（旧版接口），刷新后重试。",
                "Invalid access_token (old API); refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            40001: (
                "secret 错误或 access_token 无效。",
                "Wrong secret or invalid access_token.",
                C.TOKEN_REJECTED,
            ),
            40014: (
                "access_token 不合法，刷新后重试。",
                "Invalid access_token; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            40035: ("参数不合法。", "Invalid parameter.", C.CLIENT_ERROR),
            40078: (
                "不存在的临时授权码。",
                "The temporary auth code does not exist.",
                C.CLIENT_ERROR,
            ),
            40089: (
                "不合法的 corpId 或 corpSecret（AppKey 或 AppSecret 错误）。",
                "Invalid corpId or corpSecret (wrong AppKey or AppSecret).",
                C.CREDENTIAL_INVALID,
            ),
            41001: ("缺少 access_token。", "Missing access_token.", C.CLIENT_ERROR),
            42001: (
                "access_token 已过期，刷新后重试。",
                "access_token expired; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            43003: (
                "请求方式不对：该接口要求 HTTPS 或其他 HTTP 方法。",
                "Wrong request style: the API needs HTTPS or another HTTP method.",
                C.CLIENT_ERROR,
            ),
            45009: ("接口调用超过限制。", "Call limit exceeded.", C.QUOTA_EXHAUSTED),
            50004: (
                "请求的部门 id 不在授权范围内。",
                "The department is outside the authorised scope.",
                C.CLIENT_ERROR,
            ),
            60011: (
                "没有调用该接口的权限，请在开发者后台申请接口权限。",
                "No permission for this API; apply for it in the developer console.",
                C.CLIENT_ERROR,
            ),
            60003: ("部门不存在。", "The department does not exist.", C.CLIENT_ERROR),
            60121: ("找不到该用户。", "User not found.", C.CLIENT_ERROR),
            90002: (
                "服务器繁忙（平台整体限流），稍后重试。",
                "Server busy (platform-wide throttling); retry later.",
                C.RATE_LIMITED,
            ),
            90018: (
                "当前应用调用该接口过于频繁。",
                "This app calls the API too often.",
                C.RATE_LIMITED,
            ),
            90019: (
                "当前应用调用该接口过于频繁（每分钟）。",
                "This app calls the API too often (per minute).",
                C.RATE_LIMITED,
            ),
            400002: (
                "参数错误：缺失或格式不正确。",
                "Parameter missing or malformed.",
                C.CLIENT_ERROR,
            ),
            400402: (
                "参数缺失或格式不正确，见错误描述。",
                "A parameter is missing or malformed; see the message.",
                C.CLIENT_ERROR,
            ),
        },
    ),
    (
        "https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app (新版 API 错误码)",
        {
            "InvalidAuthentication": (
                "access_token 不合法或已过期，刷新后重试。",
                "access_token invalid or expired; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            "invalidClientIdOrSecret": (
                "appKey 或 appSecret 错误。",
                "Wrong appKey or appSecret.",
                C.CREDENTIAL_INVALID,
            ),
            "MissingParameter": ("缺少参数。", "Missing parameter.", C.CLIENT_ERROR),
            "Missingbody": (
                "请求体缺失（该接口只接受 JSON）。",
                "The body is missing (this API takes JSON only).",
                C.CLIENT_ERROR,
            ),
            "Forbidden.AccessDenied": (
                "没有调用该接口的权限。",
                "No permission for this API.",
                C.CLIENT_ERROR,
            ),
            "Forbidden.AccessDenied.AccessTokenPermissionDenied": (
                "没有调用该接口的权限：在开发者后台为应用申请 requiredScopes 中的权限。",
                "No permission for this API: apply for the requiredScopes in the developer console.",
                C.CLIENT_ERROR,
            ),
            "Throttling": ("调用频率超限。", "Rate limited.", C.RATE_LIMITED),
            # The user-token endpoint's refusal of a code it does not know (quoted by
            # DingTalk's workspace CLI tests); a used or expired code answers the same.
            "invalidParameter.authCode.notFound": (
                "授权码不存在、已使用或已过期：请用户重新授权。",
                "The authorisation code is unknown, used or expired: the user must authorise again.",
                C.GRANT_INVALID,
            ),
            "system.error": (
                "钉钉内部错误，稍后重试。",
                "DingTalk internal error; retry later.",
                C.RETRYABLE,
            ),
        },
    ),
)


def errmsg_helps(obj: dict) -> list[dict[str, str]]:
    """DingTalk's messages end with the page to read ("...接口权限申请参考：https://...")."""
    message = text(obj.get("message"), 1000)
    url = web_url(message)
    return [{"url": url, "description": message}] if url else []


ROBOT_CATALOG = catalog(
    (
        "https://open.dingtalk.com/document/orgapp/custom-robot-access (自定义机器人); replies "
        "quoted in x-cold/dingtalk-robot#7, qd-today/qd#510, leitingting08/ding-bot-sdk#3",
        {
            310000: (
                "签名不匹配、时间戳无效或关键词/IP 不符：检查加签密钥（SEC 开头）与服务器时钟。",
                "Signature mismatch, invalid timestamp, or keyword/IP rule not met: check the "
                "signing secret (starts with SEC) and the server clock.",
                C.CREDENTIAL_INVALID,
            ),
            300001: (
                "机器人 access_token 不存在（机器人已删除或地址抄错）。",
                "The robot's access_token does not exist (removed, or the address is wrong).",
                C.CREDENTIAL_INVALID,
            ),
            130101: (
                "发送过快：每个机器人每分钟最多 20 条。",
                "Sent too fast: at most 20 messages a minute per robot.",
                C.RATE_LIMITED,
            ),
        },
    ),
)


def dingtalk_robot_sign(timestamp_ms: int, secret: str) -> str:
    """The robot's signature: HMAC-SHA256 keyed with the secret over "timestamp\nsecret"."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class DingTalk(ErrcodeDecoderMixin, Provider):
    key = "dingtalk"
    name_zh = "钉钉"
    name_en = "DingTalk"
    default_base_url = NEW_API
    base_url_choices = ((NEW_API, "new API"), (OLD_API, "old API (oapi)"))
    docs_url = "https://open.dingtalk.com/document/orgapp/obtain-orgapp-token"
    id_field = "app_key"
    fields = (
        Field(
            "app_key",
            "AppKey",
            "AppKey",
            help_zh="开发者后台 → 应用 → 凭证与基础信息。",
            help_en="Developer console → App → Credentials.",
        ),
        Field(
            "app_secret",
            "AppSecret",
            "AppSecret",
            secret=True,
            help_zh="保存后不再显示。",
            help_en="Never shown after saving.",
        ),
        Field(
            "api",
            "接口版本",
            "API version",
            required=False,
            default="new",
            choices=(
                ("new", "api.dingtalk.com (x-acs-dingtalk-access-token)"),
                ("old", "oapi.dingtalk.com (?access_token=)"),
            ),
        ),
    )
    token_type = "access_token"
    # Repeated fetches within validity return the same token and extend it ("自动续期").
    refresh_policy = RefreshPolicy(
        default_lifetime=7200,
        refresh_before=600,
        reissue_window=0,
        reissue_source="https://open.dingtalk.com/document/orgapp/obtain-orgapp-token",
    )
    catalog = CATALOG
    # Each app, each API: 20 calls a second on the standard edition (40 professional, 60
    # exclusive), the platform's default for every server API.
    default_rate_limits = (RateLimit(20, 1),)
    rate_limit_docs = "https://help.dingtalk.io/open/development/call-frequency-limit"
    alert_hosts = ("oapi.dingtalk.com",)
    alert_path = "/robot/send"
    alert_label_zh = "钉钉群自定义机器人"
    alert_label_en = "DingTalk group robot"
    alert_signed = True
    alert_docs_url = "https://open.dingtalk.com/document/orgapp/custom-robot-access"
    alert_catalog = ROBOT_CATALOG
    # JS-SDK ticket (new API: POST /v1.0/oauth2/jsapiTickets; alibabacloud-dingtalk's
    # CreateJsapiTicketResponseBody: jsapiTicket, expireIn).
    jsapi = JsapiSpec(
        kinds=(JsapiKind("jsapi", "POST", "/v1.0/oauth2/jsapiTickets"),),
        app_id_field="app_key",
        # The page passes the timeStamp it was signed with, so either unit verifies;
        # DingTalk's demos pass milliseconds (System.currentTimeMillis()).
        timestamp_ms=True,
        docs_url="https://open.dingtalk.com/document/orgapp/jsapi-authentication",
    )
    # The user's own token (login.dingtalk.com's code flow). DingTalk documents no PKCE and
    # no offline scope: every exchange carries a refresh token (alibabacloud-dingtalk's
    # GetUserTokenResponseBody: accessToken, refreshToken, expireIn, corpId), with no expiry
    # for it in the reply, so none is assumed.
    user_oauth = UserOAuth(
        authorize_url="/oauth2/auth",
        token_path=USER_TOKEN_PATH,
        default_scopes=("openid", "corpid"),
        docs_url="https://open.dingtalk.com/document/orgapp/obtain-user-token",
    )
    endpoints = (
        Endpoint(
            "GET",
            "/v1.0/contact/users/{union_id}",
            "获取用户信息（新版 API）",
            "Get a user (new API)",
            family="new",
        ),
        Endpoint(
            "POST",
            "/topapi/v2/user/get",
            "查询用户详情（旧版 API，oapi.dingtalk.com）",
            "Get a user's details (classic API, oapi.dingtalk.com)",
            body={"userid": "", "language": "zh_CN"},
            family="old",
        ),
    )

    @staticmethod
    def _old(creds) -> bool:
        return (creds.get("api") or "new") == "old"

    def catalogue_family(self, values) -> str:
        return "old" if self._old(values) else "new"

    def base_url_for(self, values) -> str:
        # The classic API lives on its own host: choosing it is enough.
        return OLD_API if self._old(values) else NEW_API

    def token_request(self, base_url, creds) -> OutboundRequest:
        if self._old(creds):
            return OutboundRequest(
                "GET",
                join_url(base_url, "/gettoken"),
                params=[
                    ("appkey", creds.get("app_key", "")),
                    ("appsecret", creds.get("app_secret", "")),
                ],
            )
        return OutboundRequest(
            "POST",
            join_url(base_url, "/v1.0/oauth2/accessToken"),
            headers={"Content-Type": "application/json"},
            json={"appKey": creds.get("app_key", ""), "appSecret": creds.get("app_secret", "")},
        )

    def parse_token(self, status, headers, body) -> TokenGrant:
        obj = read_json(body).obj
        if isinstance(obj, dict) and "accessToken" in obj:
            decoded = self.decode(status, headers, body)
            return self.grant(
                decoded, obj["accessToken"], to_int(obj.get("expireIn")), "access_token"
            )
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        if self._old(creds):
            return with_query_token(request, "access_token", token)
        out = request.copy()
        out.headers["x-acs-dingtalk-access-token"] = token or ""
        return out

    @staticmethod
    def _user_api(base_url: str) -> str:
        """User tokens live on the new API's host, whichever API the credential uses."""
        return NEW_API if base_url.rstrip("/") == OLD_API else base_url

    def authorize_url(self, base_url, creds, *, redirect_uri, state, scopes, code_challenge=""):
        api = self._user_api(base_url)
        login = LOGIN_HOST if api.rstrip("/") == NEW_API else api  # an emulated origin: itself
        query = {
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "client_id": creds.get("app_key", ""),
            "scope": " ".join(scopes),
            "state": state,
            "prompt": "consent",
        }
        return (
            join_url(login, self.user_oauth.authorize_url) + "?" + urlencode(query, quote_via=quote)
        )

    def user_token_request(
        self, base_url, creds, *, code="", refresh_token="", redirect_uri="", code_verifier=""
    ) -> OutboundRequest:
        body = {"clientId": creds.get("app_key", ""), "clientSecret": creds.get("app_secret", "")}
        if refresh_token:
            body |= {"refreshToken": refresh_token, "grantType": "refresh_token"}
        else:
            body |= {"code": code, "grantType": "authorization_code"}
        return OutboundRequest(
            "POST",
            join_url(self._user_api(base_url), USER_TOKEN_PATH),
            headers={"Content-Type": "application/json"},
            json=body,
        )

    def parse_user_token(self, status, headers, body) -> UserTokenGrant:
        decoded = self.decode(status, headers, body)
        decoded.data = None  # the reply carries the tokens: never pass them on
        obj = read_json(body).obj
        token = dig(obj, "accessToken") if isinstance(obj, dict) else None
        expires_in = to_int(dig(obj, "expireIn")) if isinstance(obj, dict) else None
        if decoded.ok and isinstance(token, str) and token and expires_in:
            refresh = dig(obj, "refreshToken")
            return UserTokenGrant(
                access_token=token,
                expires_in=expires_in,
                refresh_token=refresh if isinstance(refresh, str) else "",
            )
        if decoded.ok:
            decoded.ok, decoded.classification = False, C.MALFORMED
            decoded.problem = decoded.problem or "unexpected_shape"
        raise self.token_failure(decoded)

    def user_identity_request(self, base_url: str, token: str, *, code="") -> OutboundRequest:
        return OutboundRequest(
            "GET",
            join_url(self._user_api(base_url), "/v1.0/contact/users/me"),
            headers={"x-acs-dingtalk-access-token": token},
        )

    def parse_user_identity(self, status, headers, body) -> UserIdentity:
        decoded = self.decode(status, headers, body)
        data = decoded.data if isinstance(decoded.data, dict) else {}
        union_id = data.get("unionId")
        if not decoded.ok or not isinstance(union_id, str) or not union_id:
            if decoded.ok:
                decoded.ok, decoded.classification = False, C.MALFORMED
                decoded.problem = decoded.problem or "unexpected_shape"
            decoded.data = None
            raise self.token_failure(decoded)
        return UserIdentity(user_id=text(union_id, 128), name=text(data.get("nick") or "", 200))

    def apply_user_auth(self, request: OutboundRequest, token: str) -> OutboundRequest:
        out = request.copy()
        out.headers["x-acs-dingtalk-access-token"] = token
        return out

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        if isinstance(obj, dict) and "errcode" not in obj and isinstance(obj.get("code"), str):
            trace = ("", "")
            rid = obj.get("requestid") or obj.get("requestId")
            if isinstance(rid, str) and rid:
                trace = (rid[:200], "body:requestid")
            else:
                trace = first_header(headers, "x-acs-request-id")
            code = text(obj["code"], 64)
            classification = self.classify(code, status)
            if code not in self.catalog and status == 401:
                classification = C.TOKEN_REJECTED
            scopes = dig(obj, "accessdenieddetail", "requiredScopes")
            return Decoded(
                ok=False,
                http_status=status,
                classification=classification,
                code=code,
                message=text(obj.get("message"), 1000),
                trace_id=trace[0],
                trace_id_source=trace[1],
                data=obj,
                helps=errmsg_helps(obj),
                permission_violations=dict_list(
                    [
                        {"type": "required_scope", "subject": s}
                        for s in (scopes if isinstance(scopes, list) else [])
                    ],
                    PERMISSION_KEYS,
                ),
            )
        if 200 <= status < 300 and isinstance(obj, dict) and "errcode" not in obj:
            trace = first_header(headers, "x-acs-request-id")
            return Decoded(
                ok=True,
                http_status=status,
                classification=C.OK,
                code="0",
                trace_id=trace[0],
                trace_id_source=trace[1],
                data=obj,
            )
        decoded = super()._decode(status, headers, body, request)
        if not decoded.ok and status == 401 and decoded.classification is not C.TOKEN_REJECTED:
            decoded.classification = C.TOKEN_REJECTED  # the Stream SDK resets its token on 401
        return decoded

    def parse_ticket(self, status, headers, body) -> TicketGrant:
        return self.ticket_from(status, headers, body, ("jsapiTicket",), ("expireIn",))

    def alert_request(self, url, secret, notice: Notice, now) -> OutboundRequest:
        address, params = keyed_webhook(self, url, "access_token", drop=("timestamp", "sign"))
        if secret:
            timestamp = int(now * 1000)
            params += [
                ("timestamp", str(timestamp)),
                ("sign", dingtalk_robot_sign(timestamp, secret)),
            ]
        text = {"msgtype": "text", "text": {"content": notice_lines(notice)}}
        return OutboundRequest("POST", address, params=params, json=text)
