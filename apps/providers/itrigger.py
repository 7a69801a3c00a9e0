"""企加云 iTrigger gateway. providers.md §C."""

from __future__ import annotations

import re

from .base import (
    Body,
    Classification,
    Decoded,
    Endpoint,
    Field,
    OutboundRequest,
    Provider,
    RefreshPolicy,
    TokenGrant,
    catalog,
    dig,
    join_url,
    text,
    to_int,
)

C = Classification
TOKEN_PATHS = {
    "refresh": "/itrigger-tenant/v1/basic/accessTokenOpen/token/refresh",
    "legacy": "/itrigger-tenant/v1/basic/accessTokenOpen/token",
}
LIFETIME = 7200  # "currently 2 hours"; the response carries no expiry

CATALOG = catalog(
    (
        "ItriggerOpenAPI/OpenAPIDoc quan-ju-fan-hui-zhuang-tai-ma-shuo-ming.md (全局返回状态码说明)",
        {
            200: ("成功。", "Success.", C.OK),
            40001: (
                "appId 或 appSecret 为空。",
                "appId or appSecret is empty.",
                C.CREDENTIAL_INVALID,
            ),
            40002: (
                "appId 或 appSecret 格式不正确。",
                "appId or appSecret is malformed.",
                C.CREDENTIAL_INVALID,
            ),
            40003: ("应用 appId 已被冻结。", "The appId is frozen.", C.CREDENTIAL_INVALID),
            40004: (
                "超过租户每日获取令牌次数限制，明日恢复。",
                "The tenant's daily token-fetch cap is reached; it resets tomorrow.",
                C.QUOTA_EXHAUSTED,
            ),
            500: ("系统错误。", "System error.", C.RETRYABLE),
            61451: ("参数错误。", "Parameter error.", C.CLIENT_ERROR),
            63001: ("部分参数为空。", "Some parameters are empty.", C.CLIENT_ERROR),
            46004: ("用户不存在。", "User does not exist.", C.CLIENT_ERROR),
            80001: ("会员已存在。", "Member already exists.", C.CLIENT_ERROR),
            80002: ("会员不存在。", "Member does not exist.", C.CLIENT_ERROR),
        },
    ),
)

# Undocumented by the platform, so a guess (providers.md §C3): HTTP 401/403 or a message about
# the token means "the token was rejected". If the real reply is otherwise, it decodes as a
# client error: the caller sees it and nothing refreshes in a loop (one passive refresh and
# one retry at most per call).
_TOKEN_WORDS = re.compile(r"token|过期|失效", re.I)


class ITrigger(Provider):
    key = "itrigger"
    name_zh = "企加云 iTrigger"
    name_en = "iTrigger (企加云)"
    default_base_url = "https://gateway-dev.itrigger.cn"
    base_url_choices = (
        ("https://gateway-dev.itrigger.cn", "dev gateway"),
        ("https://gateway-mb-dev.itrigger.cn", "member dev gateway"),
    )
    docs_url = "https://github.com/ItriggerOpenAPI/OpenAPIDoc"
    id_field = "app_id"
    fields = (
        Field(
            "app_id",
            "应用 ID（appId）",
            "App ID (appId)",
            help_zh="联系企加云技术人员获取。",
            help_en="Issued by iTrigger's technical staff.",
        ),
        Field(
            "app_secret",
            "应用密钥（appSecret）",
            "App secret (appSecret)",
            secret=True,
            help_zh="保存后不再显示。",
            help_en="Never shown after saving.",
        ),
        Field(
            "token_path",
            "令牌接口",
            "Token endpoint",
            required=False,
            default="refresh",
            choices=(("refresh", ".../token/refresh (2019-12)"), ("legacy", ".../token (2019-09)")),
        ),
    )
    token_type = "accessToken"
    # The old token stays valid until its own expiry after a refresh; fetches are capped
    # per tenant per day (number unpublished; 40004 when reached).
    refresh_policy = RefreshPolicy(default_lifetime=LIFETIME, refresh_before=600)
    catalog = CATALOG
    endpoints = (
        Endpoint(
            "GET",
            "/itrigger-tenant/v1/basic/openAPItest/test/get",
            "GET 测试接口",
            "GET test API",
            query=(("name", "zhongkong"),),
        ),
        Endpoint(
            "POST",
            "/itrigger-tenant/v1/basic/openAPItest/test/post",
            "POST 测试接口",
            "POST test API",
            body={"name": "zhongkong"},
        ),
        Endpoint(
            "GET",
            "/itrigger-bff/v2/open/api/member/points/list",
            "会员积分流水（分页）",
            "Member points (paged)",
            query=(("pageNum", "1"), ("pageSize", "10")),
        ),
    )

    def token_request(self, base_url, creds) -> OutboundRequest:
        path = TOKEN_PATHS.get(creds.get("token_path") or "refresh", TOKEN_PATHS["refresh"])
        return OutboundRequest(
            "GET",
            join_url(base_url, path),
            params=[("appId", creds.get("app_id", "")), ("appSecret", creds.get("app_secret", ""))],
        )

    def parse_token(self, status, headers, body) -> TokenGrant:
        decoded = self.decode(status, headers, body)
        token = dig(decoded.data, "accessToken")
        return self.grant(decoded, token, LIFETIME, "accessToken")

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        out = request.copy()
        others = [(k, v) for k, v in out.params if k != "accessToken"]
        if out.method.upper() == "POST" and others:
            # The gateway ignores POST query parameters other than accessToken: move them
            # into the JSON body, where it reads business parameters.
            body = dict(out.json) if isinstance(out.json, dict) else {}
            for k, v in others:
                body.setdefault(k, v)
            out.json, others = body, []
        out.params = [*others, ("accessToken", token or "")]
        return out

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        if not isinstance(obj, dict) or "code" not in obj:
            decoded = self.malformed(status, body)
            if status in (401, 403):
                decoded.classification = C.TOKEN_REJECTED
            return decoded
        code = to_int(obj.get("code"))
        message = text(obj.get("message"), 1000)
        ok = code == 200 and 200 <= status < 300
        classification = C.OK if ok else self.classify(str(code), status)
        if (
            not ok
            and code not in (40001, 40002, 40003, 40004)
            and (status in (401, 403) or _TOKEN_WORDS.search(message))
        ):
            classification = C.TOKEN_REJECTED
        next_page = None
        num, size, count = (to_int(obj.get(k)) for k in ("pageNum", "pageSize", "pageCount"))
        if ok and num and size and count and num < count:
            next_page = {"pageNum": num + 1, "pageSize": size}
        where = ""
        if next_page:
            where = "body" if request is not None and request.method.upper() == "POST" else "query"
        return Decoded(
            ok=ok,
            http_status=status,
            classification=classification,
            code=str(code) if code is not None else text(obj.get("code"), 32),
            message=message,
            data=obj.get("data"),
            next_page=next_page,
            next_page_in=where,
        )
