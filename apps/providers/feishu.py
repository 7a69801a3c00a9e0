"""飞书开放平台 / Feishu (Lark) Open Platform. providers.md §E."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from .base import (
    PERMISSION_KEYS,
    BadWebhook,
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
    read_json,
    text,
    to_float,
    to_int,
    web_url,
    webhook_parts,
)
from .jsapi import JsapiKind, JsapiSpec, TicketGrant

C = Classification
TOKEN_PATHS = {
    "tenant_access_token": "/open-apis/auth/v3/tenant_access_token/internal",
    "app_access_token": "/open-apis/auth/v3/app_access_token/internal",
}

GENERIC = "https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code"
TOKEN = (
    "https://open.feishu.cn/document/server-docs/authentication-management/access-token/"
    "tenant_access_token_internal"
)
IM = "https://open.feishu.cn/document/server-docs/im-v1/message/create (错误码)"
USER_TOKEN = (
    "https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/authentication-management/"
    "access-token/refresh-user-access-token (错误码); the same codes in the official clients: "
    "larksuite/cli internal/output/lark_errors.go, larksuite/openclaw-lark src/core/auth-errors.ts"
)
USER_CODE = (
    "https://open.feishu.cn/document/authentication-management/access-token/"
    "get-user-access-token (错误码)"
)
USER_TOKEN_PATH = "/open-apis/authen/v2/oauth/token"
CONTACT = "https://open.feishu.cn/document/server-docs/contact-v3/department/patch (错误码)"

CATALOG = catalog(
    (
        GENERIC,
        {
            0: ("成功。", "Success.", C.OK),
            10012: ("获取 app_access_token 失败。", "Failed to get app_access_token.", C.RETRYABLE),
            10013: (
                "获取 tenant_access_token 失败。",
                "Failed to get tenant_access_token.",
                C.RETRYABLE,
            ),
            99991543: (
                "app_id 或 app_secret 不存在。",
                "app_id or app_secret does not exist.",
                C.CREDENTIAL_INVALID,
            ),
            20002: (
                "app_id 与 app_secret 不匹配。",
                "app_id and app_secret do not match.",
                C.CREDENTIAL_INVALID,
            ),
            99991661: (
                "请求未携带或携带了格式错误的 Authorization 头（不是令牌失效）。",
                "The Authorization header is missing or garbled (not an expired token).",
                C.CLIENT_ERROR,
            ),
            99991663: (
                "tenant_access_token 已失效或无效（也可能该接口需要 user_access_token）；刷新一次后重试。",
                "tenant_access_token expired or invalid (or the API needs a user token); "
                "refresh once and retry.",
                C.TOKEN_REJECTED,
            ),
            99991664: (
                "app_access_token 无效，刷新后重试。",
                "app_access_token invalid; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            99991665: (
                "tenant_access_token 不合法，刷新后重试。",
                "tenant_access_token illegal; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            99991668: (
                "user_access_token 有问题。",
                "Problem with the user_access_token.",
                C.TOKEN_REJECTED,
            ),
            99991671: (
                "令牌格式错误：必须以 t- 或 u- 开头。",
                "Malformed token: it must start with t- or u-.",
                C.CLIENT_ERROR,
            ),
            99991677: (
                "user_access_token 已过期。",
                "user_access_token expired.",
                C.TOKEN_REJECTED,
            ),
            99991669: (
                "user refresh token 无效，需要重新授权。",
                "Invalid user refresh token; re-authorise.",
                C.CREDENTIAL_INVALID,
            ),
            99991672: (
                "应用缺少调用该接口所需的权限（scope），请在开发者后台申请。",
                "The app lacks a scope this API requires; apply for it in the developer console.",
                C.CLIENT_ERROR,
            ),
            99991676: ("令牌没有该权限。", "The token has no permission for this.", C.CLIENT_ERROR),
            99991679: (
                "用户未授权所需权限，需要重新授权。",
                "The user has not granted the scope; re-authorise.",
                C.CLIENT_ERROR,
            ),
            99991662: ("应用未启用。", "The app is not in use.", C.CREDENTIAL_INVALID),
            99991673: (
                "应用未授权或未安装。",
                "The app is unauthorised or not installed.",
                C.CREDENTIAL_INVALID,
            ),
            99991400: (
                "请求频率超限，请在 x-ogw-ratelimit-reset 秒后重试。",
                "Rate limited; retry after x-ogw-ratelimit-reset seconds.",
                C.RATE_LIMITED,
            ),
            99991401: (
                "调用方 IP 被应用的 IP 白名单拒绝。",
                "The caller's IP is denied by the app's allow-list.",
                C.CLIENT_ERROR,
            ),
            99991403: (
                "本月 API 调用额度已用尽，下月 1 日恢复。",
                "This month's API call quota is exhausted; it resets on the 1st.",
                C.QUOTA_EXHAUSTED,
            ),
            20005: ("access_token 无效。", "Invalid access_token.", C.TOKEN_REJECTED),
            20013: ("tenant token 无效。", "Invalid tenant token.", C.TOKEN_REJECTED),
            20014: ("app token 校验失败。", "App token check failed.", C.TOKEN_REJECTED),
            20006: ("user access token 已过期。", "Expired user access token.", C.TOKEN_REJECTED),
            4001: (
                "令牌无效，请刷新（审批类接口）。",
                "Invalid token, please refresh (approval APIs).",
                C.TOKEN_REJECTED,
            ),
            1000004: ("接口方法被限频。", "Method rate limited.", C.RATE_LIMITED),
            1000005: ("应用被限频。", "App rate limited.", C.RATE_LIMITED),
            11232: ("消息发送频率超限。", "Message rate limit.", C.RATE_LIMITED),
            11233: ("消息发送频率超限。", "Message rate limit.", C.RATE_LIMITED),
            11247: ("消息发送频率超限。", "Message rate limit.", C.RATE_LIMITED),
            99991201: ("资源不存在。", "Resource not found.", C.CLIENT_ERROR),
            99991301: (
                "请求方法与接口不匹配。",
                "HTTP method does not match the API.",
                C.CLIENT_ERROR,
            ),
            99992402: (
                "请求参数校验失败，见 field_violations。",
                "Field validation failed; see field_violations.",
                C.CLIENT_ERROR,
            ),
        },
    ),
    (
        TOKEN,
        {
            10003: (
                "请求参数不合法：app_id 或 app_secret 为空、格式错误或应用不存在。",
                "Invalid parameter: app_id or app_secret is empty, malformed, or the app does not exist.",
                C.CREDENTIAL_INVALID,
            ),
            10014: (
                'app_id 不存在或应用不可用（返回 "app id not exists"）。',
                'The app_id does not exist or the app is unavailable ("app id not exists").',
                C.CREDENTIAL_INVALID,
            ),
            10015: ("app_secret 错误。", "Wrong app_secret.", C.CREDENTIAL_INVALID),
            10016: (
                "应用未被企业安装或已被停用。",
                "The app is not installed by the tenant or was disabled.",
                C.CREDENTIAL_INVALID,
            ),
            10019: (
                "app_ticket 无效（商店应用）。",
                "Invalid app_ticket (store apps).",
                C.CLIENT_ERROR,
            ),
        },
    ),
    (
        USER_CODE,
        {
            20003: (
                "授权码无效（不存在，或已被使用：授权码只能使用一次）：请用户重新授权。",
                "The authorisation code is not valid (unknown, or already used: a code works "
                "once): the user must authorise again.",
                C.CLIENT_ERROR,
            ),
            20004: (
                "授权码已过期（须在生成后 5 分钟内使用）：请用户重新授权。",
                "The authorisation code expired (it must be used within 5 minutes): the user "
                "must authorise again.",
                C.CLIENT_ERROR,
            ),
            20024: (
                "授权码或 refresh_token 属于另一个应用：不要混用不同应用的凭证。",
                "The authorisation code or refresh_token belongs to another app: do not mix "
                "apps' credentials.",
                C.CLIENT_ERROR,
            ),
            20049: (
                "PKCE 校验失败：code_verifier 缺失或与授权时的 code_challenge 不符。",
                "PKCE check failed: code_verifier is missing or does not match the "
                "authorisation's code_challenge.",
                C.CLIENT_ERROR,
            ),
            20065: (
                "授权码已被使用（只能使用一次）：请检查是否被重复提交。",
                "The authorisation code was already used (it works once): check for a "
                "repeated submission.",
                C.CLIENT_ERROR,
            ),
            20071: (
                "redirect_uri 与获取授权码时的不一致。",
                "redirect_uri differs from the one used to get the authorisation code.",
                C.CLIENT_ERROR,
            ),
        },
    ),
    (
        USER_TOKEN,
        {
            20010: (
                "该用户没有应用的使用权限：请在开发者后台把用户加入应用的可用范围。",
                "The user may not use the app: add them to its availability in the console.",
                C.CLIENT_ERROR,
            ),
            20026: (
                "refresh_token 无效（格式错误，或来自旧版 v1 接口）：请该用户重新授权。",
                "The refresh_token is invalid (malformed, or from the old v1 API): the user "
                "must authorise again.",
                C.GRANT_INVALID,
            ),
            20037: (
                "refresh_token 已过期：请该用户重新授权。",
                "The refresh_token expired: the user must authorise again.",
                C.GRANT_INVALID,
            ),
            20050: (
                "刷新接口服务端内部错误，可以重试。",
                "The token endpoint failed inside the platform; retrying can help.",
                C.RETRYABLE,
            ),
            20064: (
                "refresh_token 已被吊销（用户撤销了授权，或它已被轮换掉）：请该用户重新授权。",
                "The refresh_token was revoked (the user withdrew consent, or it was rotated "
                "away): the user must authorise again.",
                C.GRANT_INVALID,
            ),
            20073: (
                "refresh_token 已被使用过（只能使用一次）：请该用户重新授权。",
                "The refresh_token was already used (it works once): the user must authorise "
                "again.",
                C.GRANT_INVALID,
            ),
        },
    ),
    (
        IM,
        {
            230001: (
                "消息参数错误，见错误详情。",
                "Invalid message parameter; see the error details.",
                C.CLIENT_ERROR,
            ),
            230002: ("机器人不在该群组中。", "The bot is not in this chat.", C.CLIENT_ERROR),
            230006: (
                "应用未启用机器人能力。",
                "The app has no bot capability enabled.",
                C.CLIENT_ERROR,
            ),
            230013: (
                "机器人对该用户没有可用性（用户不在应用的可用范围内）。",
                "The bot is not available to this user (outside the app's availability).",
                C.CLIENT_ERROR,
            ),
            230017: (
                "机器人不是群主或无权限操作。",
                "The bot is not the chat owner or may not do this.",
                C.CLIENT_ERROR,
            ),
            230020: (
                "该群或用户触发了消息频率限制。",
                "The chat or user hit the message rate limit.",
                C.RATE_LIMITED,
            ),
            230025: ("消息内容超出长度限制。", "The message content is too long.", C.CLIENT_ERROR),
            230027: (
                "缺少必要权限（Lack of necessary permissions）：机器人或用户无权对该消息或会话操作。",
                "Lack of necessary permissions: the bot or user may not act on this message or chat.",
                C.CLIENT_ERROR,
            ),
            230028: (
                "消息被敏感词或风控拦截。",
                "The message was blocked by content moderation.",
                C.CLIENT_ERROR,
            ),
            230099: (
                "创建卡片或消息失败，见错误详情。",
                "Creating the card or message failed; see the details.",
                C.CLIENT_ERROR,
            ),
        },
    ),
    (
        CONTACT,
        {
            40002: (
                "不能对根部门进行该操作。",
                "This operation is not allowed on the root department.",
                C.CLIENT_ERROR,
            ),
            40003: (
                "内部错误，请带上 X-Request-Id 联系客服。",
                "Internal error; report it with the X-Request-Id.",
                C.RETRYABLE,
            ),
            40004: (
                "无部门权限：操作的部门需在应用的通讯录权限范围内（no dept authority error）。",
                "No department authority: the department must be inside the app's contacts scope.",
                C.CLIENT_ERROR,
            ),
            40014: (
                "没有父部门权限（组织架构可见范围）。",
                "No authority over the parent department.",
                C.CLIENT_ERROR,
            ),
            41050: (
                "无用户权限：用户需在应用的通讯录权限范围内（no user authority error）。",
                "No user authority: the user must be inside the app's contacts scope.",
                C.CLIENT_ERROR,
            ),
            42008: ("租户 ID 不合法。", "Invalid tenant id.", C.CLIENT_ERROR),
            43005: ("部门 order 必须唯一。", "Department order must be unique.", C.CLIENT_ERROR),
        },
    ),
)


BOT = (
    "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (自定义机器人); replies "
    "quoted in feiyu563/PrometheusAlert#422 (19021) and public webhook test records (19001, 0)"
)
BOT_CATALOG = catalog(
    (
        BOT,
        {
            9499: (
                "请求体不合法（消息格式错误）。",
                "Bad request: the message body is malformed.",
                C.CLIENT_ERROR,
            ),
            19001: (
                "Webhook 地址无效（机器人已删除或地址抄错）。",
                "The webhook address is invalid (the bot was removed or the address is wrong).",
                C.CREDENTIAL_INVALID,
            ),
            19021: (
                "签名校验失败或时间戳与当前时间相差超过 1 小时：检查签名密钥与服务器时钟。",
                "Signature check failed, or the timestamp is more than an hour off: check the "
                "signing secret and the server clock.",
                C.CREDENTIAL_INVALID,
            ),
            19022: (
                "IP 不在机器人的白名单内。",
                "The caller's IP is not on the bot's allow-list.",
                C.CREDENTIAL_INVALID,
            ),
            19024: (
                "消息不含机器人设置的关键词。",
                "The message lacks the keyword the bot requires.",
                C.CLIENT_ERROR,
            ),
            11232: (
                "发送过快：每个机器人每分钟 100 次、每秒 5 次。",
                "Sent too fast: 100 per minute and 5 per second per bot.",
                C.RATE_LIMITED,
            ),
        },
    ),
)


def feishu_bot_sign(timestamp: int, secret: str) -> str:
    """The custom bot's signature: HMAC-SHA256 keyed with "timestamp\nsecret" over nothing."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class Feishu(Provider):
    key = "feishu"
    name_zh = "飞书开放平台"
    name_en = "Feishu / Lark Open Platform"
    default_base_url = "https://open.feishu.cn"
    base_url_choices = (
        ("https://open.feishu.cn", "Feishu"),
        ("https://open.larksuite.com", "Lark"),
    )
    docs_url = "https://open.feishu.cn/document/server-docs/api-call-guide/calling-process/get-"
    id_field = "app_id"
    fields = (
        Field(
            "app_id",
            "App ID",
            "App ID",
            help_zh="开发者后台 → 凭证与基础信息，形如 cli_…",
            help_en="Developer console → Credentials & Basic Info; looks like cli_…",
        ),
        Field(
            "app_secret",
            "App Secret",
            "App Secret",
            secret=True,
            help_zh="开发者后台 → 凭证与基础信息。保存后不再显示。",
            help_en="Developer console → Credentials & Basic Info. Never shown after saving.",
        ),
        Field(
            "token_kind",
            "令牌类型",
            "Token kind",
            required=False,
            default="tenant_access_token",
            choices=(
                ("tenant_access_token", "tenant_access_token"),
                ("app_access_token", "app_access_token"),
            ),
        ),
    )
    token_type = "tenant_access_token"
    # Max 2 h; a fetch returns the same token until < 30 min remain, then a new one, and
    # both stay valid. Refreshing at 25 min left lands inside that window.
    refresh_policy = RefreshPolicy(
        default_lifetime=7200,
        refresh_before=1500,
        reissue_window=1800,
        reissue_source=TOKEN,
    )
    catalog = CATALOG
    alert_hosts = ("open.feishu.cn", "open.larksuite.com")
    alert_path = "/open-apis/bot/v2/hook/"
    alert_label_zh = "飞书群自定义机器人"
    alert_label_en = "Feishu group custom bot"
    alert_signed = True
    alert_docs_url = "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot"
    alert_catalog = BOT_CATALOG
    # User tokens (OAuth v2): a refresh token comes only with offline_access, works once,
    # and is replaced by the one in the reply; the code works once within 5 minutes.
    # JS-SDK ticket (POST /open-apis/jssdk/ticket/get: data.ticket, data.expire_in); the
    # page's timestamp is in milliseconds.
    jsapi = JsapiSpec(
        kinds=(JsapiKind("jsapi", "POST", "/open-apis/jssdk/ticket/get"),),
        app_id_field="app_id",
        timestamp_ms=True,
        docs_url="https://open.feishu.cn/document/uYjL24iN/uUDO3YjL1gzN24SN4cjN",
    )
    user_oauth = UserOAuth(
        authorize_url="/open-apis/authen/v1/authorize",
        token_path=USER_TOKEN_PATH,
        pkce=True,
        offline_scope="offline_access",
        default_scopes=("offline_access",),
        docs_url="https://open.feishu.cn/document/common-capabilities/sso/api/obtain-oauth-code",
    )
    endpoints = (
        Endpoint(
            "POST",
            "/open-apis/im/v1/messages",
            "发送消息",
            "Send a message",
            query=(("receive_id_type", "open_id"),),
            body={"receive_id": "ou_xxx", "msg_type": "text", "content": '{"text":"hello"}'},
            limit="1000/min, 50/s",
        ),
        Endpoint(
            "GET",
            "/open-apis/contact/v3/users",
            "获取用户列表（分页）",
            "List users (paged)",
            query=(("page_size", "20"),),
            limit="1000/min, 50/s",
        ),
        Endpoint(
            "GET",
            "/open-apis/contact/v3/users/{user_id}",
            "获取单个用户信息",
            "Get a user",
            query=(("user_id_type", "open_id"),),
        ),
    )

    def token_request(self, base_url: str, creds: Mapping[str, str]) -> OutboundRequest:
        kind = creds.get("token_kind") or "tenant_access_token"
        return OutboundRequest(
            "POST",
            join_url(base_url, TOKEN_PATHS.get(kind, TOKEN_PATHS["tenant_access_token"])),
            headers={"Content-Type": "application/json; charset=utf-8"},
            json={"app_id": creds.get("app_id", ""), "app_secret": creds.get("app_secret", "")},
        )

    def parse_token(self, status, headers, body) -> TokenGrant:
        decoded = self.decode(status, headers, body)
        parsed = read_json(body).obj
        token = dig(parsed, "tenant_access_token") or dig(parsed, "app_access_token")
        expire = to_int(dig(parsed, "expire"))
        kind = "tenant_access_token" if dig(parsed, "tenant_access_token") else "app_access_token"
        return self.grant(decoded, token, expire, kind)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        out = request.copy()
        out.headers["Authorization"] = f"Bearer {token}"
        return out

    @staticmethod
    def _accounts(base_url: str) -> str:
        """The sign-in host beside an API host (open.feishu.cn → accounts.feishu.cn); an
        emulated origin serves both."""
        scheme, _, rest = base_url.partition("://")
        host, _, tail = rest.partition("/")
        if host.startswith("open."):
            host = "accounts." + host[len("open.") :]
        return f"{scheme}://{host}" + (f"/{tail}" if tail else "")

    def authorize_url(self, base_url, creds, *, redirect_uri, state, scopes, code_challenge=""):
        query = {
            "client_id": creds.get("app_id", ""),
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
        if code_challenge:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return (
            join_url(self._accounts(base_url), self.user_oauth.authorize_url)
            + "?"
            + (urlencode(query, quote_via=quote))
        )

    def user_token_request(
        self, base_url, creds, *, code="", refresh_token="", redirect_uri="", code_verifier=""
    ) -> OutboundRequest:
        body = {"client_id": creds.get("app_id", ""), "client_secret": creds.get("app_secret", "")}
        if refresh_token:
            body |= {"grant_type": "refresh_token", "refresh_token": refresh_token}
        else:
            body |= {"grant_type": "authorization_code", "code": code}
            body |= {"redirect_uri": redirect_uri} if redirect_uri else {}
            body |= {"code_verifier": code_verifier} if code_verifier else {}
        return OutboundRequest(
            "POST",
            join_url(base_url, USER_TOKEN_PATH),
            headers={"Content-Type": "application/json; charset=utf-8"},
            json=body,
        )

    def parse_user_token(self, status, headers, body) -> UserTokenGrant:
        decoded = self.decode(status, headers, body)
        decoded.data = None  # the reply carries the tokens: never pass them on
        obj = read_json(body).obj
        token, expires_in = dig(obj, "access_token"), to_int(dig(obj, "expires_in"))
        if decoded.ok and isinstance(token, str) and token and expires_in:
            refresh = dig(obj, "refresh_token")
            scope = dig(obj, "scope")
            return UserTokenGrant(
                access_token=token,
                expires_in=expires_in,
                refresh_token=refresh if isinstance(refresh, str) else "",
                refresh_expires_in=to_int(dig(obj, "refresh_token_expires_in")),
                scopes=tuple(scope.split()) if isinstance(scope, str) else (),
            )
        if decoded.ok:
            decoded.ok, decoded.classification = False, C.MALFORMED
            decoded.problem = decoded.problem or "unexpected_shape"
        raise self.token_failure(decoded)

    def user_identity_request(self, base_url: str, token: str, *, code="") -> OutboundRequest:
        return OutboundRequest(
            "GET",
            join_url(base_url, "/open-apis/authen/v1/user_info"),
            headers={"Authorization": f"Bearer {token}"},
        )

    def parse_user_identity(self, status, headers, body) -> UserIdentity:
        decoded = self.decode(status, headers, body)
        data = decoded.data if isinstance(decoded.data, dict) else {}
        open_id = data.get("open_id")
        if not decoded.ok or not isinstance(open_id, str) or not open_id:
            if decoded.ok:
                decoded.ok, decoded.classification = False, C.MALFORMED
                decoded.problem = decoded.problem or "unexpected_shape"
            decoded.data = None
            raise self.token_failure(decoded)
        return UserIdentity(
            user_id=text(open_id, 128),
            name=text(data.get("name") or data.get("en_name") or "", 200),
            union_id=text(data.get("union_id") or "", 128),
        )

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        error = dig(obj, "error") if isinstance(obj, dict) else None
        trace = ("", "")
        for key in ("log_id", "logid"):
            value = dig(error, key)
            if isinstance(value, str) and value:
                trace = (value[:200], f"body:error.{key}")
                break
        if not trace[0]:
            trace = first_header(headers, "x-tt-logid")
        code = to_int(dig(obj, "code")) if isinstance(obj, dict) else None
        if code is None:
            return self.malformed(status, body, trace)
        retry_after = to_float(headers.get("x-ogw-ratelimit-reset"))
        data = obj.get("data")
        next_page = None
        if isinstance(data, dict) and data.get("has_more") is True and data.get("page_token"):
            next_page = {"page_token": text(data.get("page_token"), 500)}
        ok = code == 0 and 200 <= status < 300
        return Decoded(
            ok=ok,
            http_status=status,
            classification=C.OK if ok else self.classify(str(code), status),
            code=str(code),
            # The OAuth v2 endpoint speaks RFC 6749 beside its code: error_description.
            message=text(obj.get("msg") or obj.get("error_description"), 1000),
            trace_id=trace[0],
            trace_id_source=trace[1],
            data=data,
            next_page=next_page,
            next_page_in="query" if next_page else "",
            field_violations=dict_list(
                dig(error, "field_violations"), ("field", "value", "description")
            ),
            permission_violations=dict_list(dig(error, "permission_violations"), PERMISSION_KEYS),
            helps=self._helps(error),
            troubleshooter=web_url(dig(error, "troubleshooter")),
            retry_after=retry_after,
        )

    def parse_ticket(self, status, headers, body) -> TicketGrant:
        return self.ticket_from(status, headers, body, ("data", "ticket"), ("data", "expire_in"))

    def alert_request(self, url, secret, notice: Notice, now) -> OutboundRequest:
        _, path = webhook_parts(self, url, internal_ok=True)
        if not path.partition(self.alert_path)[2].strip("/"):
            raise BadWebhook("the address has no bot key after /hook/")
        template = "green" if notice.resolved else {"warning": "orange"}.get(notice.severity, "red")
        lines = [notice.text] + ([notice.link] if notice.link else [])
        body: dict = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "template": template,
                    "title": {"tag": "plain_text", "content": notice.title[:200]},
                },
                "elements": [
                    {"tag": "div", "text": {"tag": "plain_text", "content": "\n".join(lines)}}
                ],
            },
        }
        if secret:
            timestamp = int(now)
            body = {"timestamp": str(timestamp), "sign": feishu_bot_sign(timestamp, secret), **body}
        return OutboundRequest(
            "POST", url.strip(), headers={"Content-Type": "application/json"}, json=body
        )

    def alert_result(self, status, headers, body) -> Decoded:
        """Replies carry `code`/`msg`, older ones only `StatusCode`/`StatusMessage`."""
        obj = read_json(body).obj
        if isinstance(obj, dict) and "code" not in obj and "StatusCode" in obj:
            body = json.dumps({"code": obj["StatusCode"], "msg": obj.get("StatusMessage")}).encode()
        return super().alert_result(status, headers, body)

    @staticmethod
    def _helps(error) -> list[dict[str, str]]:
        """`error.helps`, plus the documentation link Feishu puts in `error.message`
        ("Refer to the documentation to fix the error: https://...")."""
        helps = dict_list(dig(error, "helps"), ("url", "description"))
        doc = web_url(dig(error, "message"))
        if doc and all(h["url"] != doc for h in helps):
            helps.append({"url": doc, "description": text(dig(error, "message"), 500)})
        return helps

    def rate_limits(self, method: str, path: str) -> tuple[RateLimit, ...]:
        if path.rstrip("/").endswith("/im/v1/messages") and method.upper() == "POST":
            return (RateLimit(1000, 60), RateLimit(50, 1))
        return (RateLimit(20, 1),)
