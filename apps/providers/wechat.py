"""WeChat Official Account (api.weixin.qq.com). providers.md §F1."""

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
    first_header,
    join_url,
    read_json,
    text,
    to_int,
    with_query_token,
)

C = Classification
_RID = re.compile(r"rid:\s*([0-9a-fA-F-]{8,64})")

CATALOG = catalog({
    0: ("成功。", "Success.", C.OK),
    -1: ("系统繁忙，请稍后重试。", "System busy; retry later.", C.RETRYABLE),
    40001: ("AppSecret 错误，或 access_token 无效；业务接口上刷新一次后重试。",
            "Wrong AppSecret, or invalid access_token; on a business call refresh once and retry.",
            C.TOKEN_REJECTED),
    40002: ("grant_type 不合法。", "Invalid grant_type.", C.CLIENT_ERROR),
    40013: ("AppID 不合法。", "Invalid AppID.", C.CREDENTIAL_INVALID),
    40014: ("access_token 不合法，刷新后重试。", "Invalid access_token; refresh and retry.",
            C.TOKEN_REJECTED),
    40125: ("AppSecret 不合法。", "Invalid AppSecret.", C.CREDENTIAL_INVALID),
    40164: ("调用方 IP 不在白名单中。", "The caller's IP is not in the allow-list.", C.CLIENT_ERROR),
    41001: ("缺少 access_token 参数。", "Missing access_token.", C.CLIENT_ERROR),
    42001: ("access_token 已过期，刷新后重试。", "access_token expired; refresh and retry.",
            C.TOKEN_REJECTED),
    42007: ("用户修改了密码，需要重新授权。", "The user changed the password; re-authorise.",
            C.CLIENT_ERROR),
    45009: ("接口调用超过每日上限，次日恢复（可用 clear_quota 清零）。",
            "Daily API quota reached; it resets tomorrow (clear_quota can reset it).",
            C.QUOTA_EXHAUSTED),
    45011: ("接口调用太频繁（分钟级），请稍后重试。", "API minute quota reached; retry shortly.",
            C.RATE_LIMITED),
    48001: ("接口未授权。", "API not authorised.", C.CLIENT_ERROR),
    48006: ("清零次数已达上限。", "Quota-reset limit reached.", C.QUOTA_EXHAUSTED),
    50001: ("用户未授权该接口。", "The user has not authorised this API.", C.CLIENT_ERROR),
    50002: ("用户受限。", "The user is restricted.", C.CLIENT_ERROR),
})


class ErrcodeDecoderMixin:
    """The WeChat-family envelope: success has no `errcode` or errcode 0."""

    # On the token endpoint itself 40001 means a wrong secret: never loop on it.
    token_endpoint_credential_codes = frozenset({"40001", "40013", "40125", "40002", "40091"})

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        trace = first_header(headers, "request-id", "x-request-id")
        if not isinstance(obj, dict):
            return self.malformed(status, body, trace)
        message = text(obj.get("errmsg"), 1000)
        rid = _RID.search(message)
        if rid:
            trace = (rid.group(1), "body:errmsg rid")
        elif isinstance(obj.get("request_id"), str) and obj["request_id"]:
            trace = (obj["request_id"][:200], "body:request_id")
        code = to_int(obj.get("errcode")) if "errcode" in obj else 0
        if code is None:
            return self.malformed(status, body, trace)
        ok = code == 0 and 200 <= status < 300
        return Decoded(ok=ok, http_status=status,
                       classification=C.OK if ok else self.classify(str(code), status),
                       code=str(code), message=message, trace_id=trace[0],
                       trace_id_source=trace[1], data=obj)

    def _parse_token_grant(self, status, headers, body, token_key="access_token",
                           expires_key="expires_in") -> TokenGrant:
        """Token endpoints answering `{access_token, expires_in}` or an errcode envelope."""
        decoded = self.decode(status, headers, body)
        obj = read_json(body).obj
        token = obj.get(token_key) if isinstance(obj, dict) else None
        expires = to_int(obj.get(expires_key)) if isinstance(obj, dict) else None
        return self.grant(decoded, token, expires, "access_token")


class WeChat(ErrcodeDecoderMixin, Provider):
    key = "wechat"
    name_zh = "微信公众号"
    name_en = "WeChat Official Account"
    default_base_url = "https://api.weixin.qq.com"
    docs_url = "https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html"
    id_field = "appid"
    fields = (
        Field("appid", "AppID", "AppID", help_zh="公众平台 → 设置与开发 → 基本配置。",
              help_en="Official Account platform → Settings → Basic configuration."),
        Field("secret", "AppSecret", "AppSecret", secret=True,
              help_zh="保存后不再显示；调用方 IP 需加入白名单。",
              help_en="Never shown after saving; the caller's IP must be allow-listed."),
        Field("token_endpoint", "令牌接口", "Token endpoint", required=False, default="stable",
              choices=(("stable", "stable_token (recommended)"),
                       ("classic", "cgi-bin/token (rotates on every fetch)"))),
    )
    token_type = "access_token"
    # stable_token: repeated calls return the same token, renewed 5 min before expiry.
    # classic: every fetch rotates the token (old one valid 5 more minutes), 2000/day.
    refresh_policy = RefreshPolicy(default_lifetime=7200, refresh_before=240, old_token_grace=300,
                                   daily_cap=2000)
    catalog = CATALOG
    endpoints = (
        Endpoint("GET", "/cgi-bin/get_api_domain_ip", "获取微信 API 服务器 IP",
                 "WeChat API server IPs"),
    )

    def token_request(self, base_url, creds) -> OutboundRequest:
        if (creds.get("token_endpoint") or "stable") == "classic":
            return OutboundRequest("GET", join_url(base_url, "/cgi-bin/token"), params=[
                ("grant_type", "client_credential"), ("appid", creds.get("appid", "")),
                ("secret", creds.get("secret", ""))])
        return OutboundRequest("POST", join_url(base_url, "/cgi-bin/stable_token"), json={
            "grant_type": "client_credential", "appid": creds.get("appid", ""),
            "secret": creds.get("secret", ""), "force_refresh": False})

    def parse_token(self, status, headers, body) -> TokenGrant:
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        return with_query_token(request, "access_token", token)
