"""DingTalk / 钉钉: new API (api.dingtalk.com, header token) or old API (oapi.dingtalk.com,
query token). providers.md §F3."""

from __future__ import annotations

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
    first_header,
    join_url,
    read_json,
    text,
    to_int,
    with_query_token,
)
from .wechat import ErrcodeDecoderMixin

C = Classification
NEW_API, OLD_API = "https://api.dingtalk.com", "https://oapi.dingtalk.com"

CATALOG = catalog({
    0: ("成功。", "Success.", C.OK),
    -1: ("系统繁忙，请稍后重试。", "System busy; retry later.", C.RETRYABLE),
    40014: ("access_token 不合法，刷新后重试。", "Invalid access_token; refresh and retry.",
            C.TOKEN_REJECTED),
    42001: ("access_token 已过期，刷新后重试。", "access_token expired; refresh and retry.",
            C.TOKEN_REJECTED),
    40001: ("secret 错误或 access_token 无效。", "Wrong secret or invalid access_token.",
            C.TOKEN_REJECTED),
    41001: ("缺少 access_token。", "Missing access_token.", C.CLIENT_ERROR),
    45009: ("接口调用超过限制。", "Call limit exceeded.", C.QUOTA_EXHAUSTED),
    "InvalidAuthentication": ("access_token 不合法或已过期，刷新后重试。",
                              "access_token invalid or expired; refresh and retry.",
                              C.TOKEN_REJECTED),
    "invalidClientIdOrSecret": ("appKey 或 appSecret 错误。", "Wrong appKey or appSecret.",
                                C.CREDENTIAL_INVALID),
    "MissingParameter": ("缺少参数。", "Missing parameter.", C.CLIENT_ERROR),
    "Forbidden.AccessDenied": ("没有调用该接口的权限。", "No permission for this API.",
                               C.CLIENT_ERROR),
    "Throttling": ("调用频率超限。", "Rate limited.", C.RATE_LIMITED),
})


class DingTalk(ErrcodeDecoderMixin, Provider):
    key = "dingtalk"
    name_zh = "钉钉"
    name_en = "DingTalk"
    default_base_url = NEW_API
    base_url_choices = ((NEW_API, "new API"), (OLD_API, "old API (oapi)"))
    docs_url = "https://open.dingtalk.com/document/orgapp/obtain-orgapp-token"
    id_field = "app_key"
    fields = (
        Field("app_key", "AppKey", "AppKey", help_zh="开发者后台 → 应用 → 凭证与基础信息。",
              help_en="Developer console → App → Credentials."),
        Field("app_secret", "AppSecret", "AppSecret", secret=True,
              help_zh="保存后不再显示。", help_en="Never shown after saving."),
        Field("api", "接口版本", "API version", required=False, default="new",
              choices=(("new", "api.dingtalk.com (x-acs-dingtalk-access-token)"),
                       ("old", "oapi.dingtalk.com (?access_token=)"))),
    )
    token_type = "access_token"
    # Repeated fetches within validity return the same token and extend it.
    refresh_policy = RefreshPolicy(default_lifetime=7200, refresh_before=600)
    catalog = CATALOG
    endpoints = (
        Endpoint("GET", "/v1.0/contact/users/union-id", "获取用户信息（新版 API）",
                 "Get a user (new API)"),
    )

    @staticmethod
    def _old(creds) -> bool:
        return (creds.get("api") or "new") == "old"

    def token_request(self, base_url, creds) -> OutboundRequest:
        if self._old(creds):
            return OutboundRequest("GET", join_url(base_url, "/gettoken"), params=[
                ("appkey", creds.get("app_key", "")), ("appsecret", creds.get("app_secret", ""))])
        return OutboundRequest("POST", join_url(base_url, "/v1.0/oauth2/accessToken"),
                               headers={"Content-Type": "application/json"},
                               json={"appKey": creds.get("app_key", ""),
                                     "appSecret": creds.get("app_secret", "")})

    def parse_token(self, status, headers, body) -> TokenGrant:
        obj = read_json(body).obj
        if isinstance(obj, dict) and "accessToken" in obj:
            decoded = self.decode(status, headers, body)
            return self.grant(decoded, obj["accessToken"], to_int(obj.get("expireIn")),
                              "access_token")
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        if self._old(creds):
            return with_query_token(request, "access_token", token)
        out = request.copy()
        out.headers["x-acs-dingtalk-access-token"] = token or ""
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
            return Decoded(ok=False, http_status=status, classification=classification,
                           code=code, message=text(obj.get("message"), 1000), trace_id=trace[0],
                           trace_id_source=trace[1], data=obj)
        if 200 <= status < 300 and isinstance(obj, dict) and "errcode" not in obj:
            trace = first_header(headers, "x-acs-request-id")
            return Decoded(ok=True, http_status=status, classification=C.OK, code="0",
                           trace_id=trace[0], trace_id_source=trace[1], data=obj)
        decoded = super()._decode(status, headers, body, request)
        if not decoded.ok and status == 401 and decoded.classification is not C.TOKEN_REJECTED:
            decoded.classification = C.TOKEN_REJECTED  # the Stream SDK resets its token on 401
        return decoded
