"""WeChat Official Account (api.weixin.qq.com). providers.md §F1."""

from __future__ import annotations

import re
from dataclasses import replace

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
    join_url,
    read_json,
    text,
    to_int,
    with_query_token,
)
from .jsapi import JsapiKind, JsapiSpec, TicketGrant

C = Classification
# Where the WeChat family puts its trace id: inside `errmsg`, in one of three forms seen in
# real replies (tests/captures/): "... rid: 654df33c-64386a2f-29857782" (WeChat since
# 2019), "... hint: [dLTTea0566vr46!]" (WeChat before) and "... hints: [ req_id: hDexla0781ns89 ]"
# (WeChat OAuth), "..., hint: [1740671476450144148366218], from ip: 1.2.3.4, more info at
# https://open.work.weixin.qq.com/devtool/query?e=40001" (WeCom). These platforms send no
# trace id header.
_TRACE = (
    (re.compile(r"\brid:\s*([0-9A-Za-z-]{8,64})"), "body:errmsg rid"),
    (re.compile(r"\bhints?:\s*\[\s*req_id:\s*([^\]\s]{1,100})\s*\]"), "body:errmsg req_id"),
    (re.compile(r"\bhint:\s*\[\s*([^\]\s]{1,100})\s*\]"), "body:errmsg hint"),
)
_FROM_IP = re.compile(r"\bfrom ip:\s*([0-9A-Fa-f.:]{2,45})")
_MORE_INFO = re.compile(r"\bmore (?:info|details) at\s+(https?://\S+?)(?=[\s,]|$)")


def errmsg_details(message: str) -> tuple[tuple[str, str], str, list[dict[str, str]]]:
    """(trace id and where it was found, the caller IP the platform saw, help links) from a
    WeChat-family `errmsg`."""
    trace = ("", "")
    for pattern, source in _TRACE:
        match = pattern.search(message)
        if match:
            trace = (match.group(1)[:200], source)
            break
    ip = _FROM_IP.search(message)
    helps = [{"url": m.group(1)[:1000], "description": ""} for m in _MORE_INFO.finditer(message)]
    return trace, ip.group(1) if ip else "", helps[:5]


GLOBAL_CODES = (
    "https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html"
)

CATALOG = catalog(
    (
        GLOBAL_CODES,
        {
            0: ("成功。", "Success.", C.OK),
            -1: ("系统繁忙，请稍后重试。", "System busy; retry later.", C.RETRYABLE),
            40001: (
                "AppSecret 错误，或 access_token 无效或不是最新；业务接口上刷新一次后重试。",
                "Wrong AppSecret, or the access_token is invalid or not the latest; on a business call "
                "refresh once and retry.",
                C.TOKEN_REJECTED,
            ),
            40002: ("grant_type 不合法。", "Invalid grant_type.", C.CLIENT_ERROR),
            40003: (
                "OpenID 不合法或不属于此公众号。",
                "Invalid OpenID, or not of this account.",
                C.CLIENT_ERROR,
            ),
            40004: ("媒体文件类型不合法。", "Invalid media type.", C.CLIENT_ERROR),
            40005: ("文件类型不合法。", "Invalid file type.", C.CLIENT_ERROR),
            40006: ("文件大小不合法。", "Invalid file size.", C.CLIENT_ERROR),
            40007: ("media_id 不合法。", "Invalid media_id.", C.CLIENT_ERROR),
            40008: ("消息类型不合法。", "Invalid message type.", C.CLIENT_ERROR),
            40013: (
                "AppID 不合法（检查是否复制完整）。",
                "Invalid AppID (check it was copied whole).",
                C.CREDENTIAL_INVALID,
            ),
            40014: (
                "access_token 不合法，刷新后重试。",
                "Invalid access_token; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            40029: ("code 无效。", "Invalid code.", C.CLIENT_ERROR),
            40030: ("refresh_token 无效。", "Invalid refresh_token.", C.CLIENT_ERROR),
            40033: (
                "请求字符不合法（不能含 \\uxxxx 格式字符）。",
                "Invalid characters in the request.",
                C.CLIENT_ERROR,
            ),
            40035: ("参数不合法。", "Invalid parameter.", C.CLIENT_ERROR),
            40037: ("模板 id 不合法。", "Invalid template id.", C.CLIENT_ERROR),
            40038: ("请求格式不合法。", "Invalid request format.", C.CLIENT_ERROR),
            40039: ("URL 长度不合法。", "Invalid URL length.", C.CLIENT_ERROR),
            40048: ("URL 域名不合法。", "Invalid URL domain.", C.CLIENT_ERROR),
            40066: ("URL 不合法。", "Invalid URL.", C.CLIENT_ERROR),
            40125: ("AppSecret 不合法。", "Invalid AppSecret.", C.CREDENTIAL_INVALID),
            40163: ("code 已被使用。", "The code has been used.", C.CLIENT_ERROR),
            40164: (
                "调用方 IP 不在白名单中（公众平台 → 基本配置 → IP 白名单）。",
                "The caller's IP is not in the allow-list (Basic configuration → IP allow-list).",
                C.CLIENT_ERROR,
            ),
            40243: (
                "AppSecret 已被冻结，请解冻后再调用。",
                "The AppSecret is frozen; unfreeze it first.",
                C.CREDENTIAL_INVALID,
            ),
            41001: ("缺少 access_token 参数。", "Missing access_token.", C.CLIENT_ERROR),
            41002: ("缺少 appid 参数。", "Missing appid.", C.CREDENTIAL_INVALID),
            41003: ("缺少 refresh_token 参数。", "Missing refresh_token.", C.CLIENT_ERROR),
            41004: ("缺少 secret 参数。", "Missing secret.", C.CREDENTIAL_INVALID),
            41005: ("缺少多媒体文件数据。", "Missing media data.", C.CLIENT_ERROR),
            41006: ("缺少 media_id 参数。", "Missing media_id.", C.CLIENT_ERROR),
            41008: ("缺少 code 参数。", "Missing code.", C.CLIENT_ERROR),
            41009: ("缺少 openid。", "Missing openid.", C.CLIENT_ERROR),
            42001: (
                "access_token 已过期，刷新后重试。",
                "access_token expired; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            42002: ("refresh_token 已过期。", "refresh_token expired.", C.CLIENT_ERROR),
            42003: ("code 已过期。", "The code expired.", C.CLIENT_ERROR),
            42007: (
                "用户修改了密码，需要重新授权。",
                "The user changed the password; re-authorise.",
                C.CLIENT_ERROR,
            ),
            43001: ("需要 GET 请求。", "GET is required.", C.CLIENT_ERROR),
            43002: ("需要 POST 请求。", "POST is required.", C.CLIENT_ERROR),
            43003: ("需要 HTTPS 请求。", "HTTPS is required.", C.CLIENT_ERROR),
            43004: ("需要接收者关注。", "The recipient must follow the account.", C.CLIENT_ERROR),
            44001: ("多媒体文件为空。", "Empty media data.", C.CLIENT_ERROR),
            44002: ("POST 的数据包为空。", "Empty POST body.", C.CLIENT_ERROR),
            44003: ("图文消息内容为空。", "Empty news content.", C.CLIENT_ERROR),
            44004: ("文本消息内容为空。", "Empty text content.", C.CLIENT_ERROR),
            45001: ("多媒体文件大小超过限制。", "Media file too large.", C.CLIENT_ERROR),
            45002: ("消息内容超过限制。", "Message content too long.", C.CLIENT_ERROR),
            45009: (
                "接口调用超过每日上限，次日恢复（可用 clear_quota 清零）。",
                "Daily API quota reached; it resets tomorrow (clear_quota can reset it).",
                C.QUOTA_EXHAUSTED,
            ),
            45011: (
                "接口调用太频繁（分钟级），请稍后重试。",
                "API minute quota reached; retry shortly.",
                C.RATE_LIMITED,
            ),
            45015: (
                "回复时间超过限制（48 小时）。",
                "Reply window (48 h) has passed.",
                C.CLIENT_ERROR,
            ),
            45047: (
                "客服接口下行条数超过上限。",
                "Customer-service message count limit reached.",
                C.QUOTA_EXHAUSTED,
            ),
            46001: ("多媒体数据不存在。", "The media does not exist.", C.CLIENT_ERROR),
            46004: ("用户不存在。", "The user does not exist.", C.CLIENT_ERROR),
            47001: (
                "解析 JSON/XML 内容错误。",
                "The JSON/XML body could not be parsed.",
                C.CLIENT_ERROR,
            ),
            48001: (
                "接口未授权（公众号没有该接口权限）。",
                "API not authorised for this account.",
                C.CLIENT_ERROR,
            ),
            48002: ("粉丝拒收消息。", "The follower blocks messages.", C.CLIENT_ERROR),
            48004: ("接口被封禁。", "The API is banned for this account.", C.CLIENT_ERROR),
            48006: ("清零次数已达上限。", "Quota-reset limit reached.", C.QUOTA_EXHAUSTED),
            50001: ("用户未授权该接口。", "The user has not authorised this API.", C.CLIENT_ERROR),
            50002: ("用户受限（可能被封禁）。", "The user is restricted.", C.CLIENT_ERROR),
            61451: ("参数错误。", "Invalid parameter.", C.CLIENT_ERROR),
        },
    ),
    (
        "https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html",
        {
            45009: (
                "接口调用超过每日上限（stable_token：强制刷新每天 20 次）。",
                "Daily limit reached (stable_token: 20 forced refreshes a day).",
                C.QUOTA_EXHAUSTED,
            ),
            45011: (
                "接口调用太频繁（stable_token：强制刷新间隔需 ≥ 30 秒）。",
                "Too frequent (stable_token: forced refreshes must be ≥ 30 s apart).",
                C.RATE_LIMITED,
            ),
        },
    ),
)


class ErrcodeDecoderMixin:
    """The WeChat-family envelope: success has no `errcode` or errcode 0."""

    # On the token endpoint itself 40001 means a wrong secret: never loop on it.
    token_endpoint_credential_codes = frozenset({"40001", "40013", "40125", "40002", "40091"})

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        if not isinstance(obj, dict):
            return self.malformed(status, body)
        message = text(obj.get("errmsg"), 1000)
        trace, caller_ip, helps = errmsg_details(message)
        if not trace[0] and isinstance(obj.get("request_id"), str) and obj["request_id"]:
            trace = (obj["request_id"][:200], "body:request_id")  # DingTalk's topapi
        code = to_int(obj.get("errcode")) if "errcode" in obj else 0
        if code is None:
            return self.malformed(status, body, trace)
        ok = code == 0 and 200 <= status < 300
        return Decoded(
            ok=ok,
            http_status=status,
            classification=C.OK if ok else self.classify(str(code), status),
            code=str(code),
            message=message,
            trace_id=trace[0],
            trace_id_source=trace[1],
            data=obj,
            caller_ip=caller_ip,
            helps=helps,
        )

    def _parse_token_grant(
        self, status, headers, body, token_key="access_token", expires_key="expires_in"
    ) -> TokenGrant:
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
        Field(
            "appid",
            "AppID",
            "AppID",
            help_zh="公众平台 → 设置与开发 → 基本配置。",
            help_en="Official Account platform → Settings → Basic configuration.",
        ),
        Field(
            "secret",
            "AppSecret",
            "AppSecret",
            secret=True,
            help_zh="保存后不再显示；调用方 IP 需加入白名单。",
            help_en="Never shown after saving; the caller's IP must be allow-listed.",
        ),
        Field(
            "token_endpoint",
            "令牌接口",
            "Token endpoint",
            required=False,
            default="stable",
            choices=(
                ("stable", "stable_token (recommended)"),
                ("classic", "cgi-bin/token (rotates on every fetch)"),
            ),
        ),
    )
    token_type = "access_token"
    # stable_token: repeated calls return the same token, renewed 5 min before expiry.
    # classic: every fetch rotates the token (old one valid 5 more minutes), 2000/day.
    refresh_policy = RefreshPolicy(
        default_lifetime=7200, refresh_before=240, old_token_grace=300, daily_cap=2000
    )
    catalog = CATALOG
    # JS-SDK tickets (网页开发 → JS-SDK 说明 附录1: cgi-bin/ticket/getticket, type jsapi or
    # wx_card; "ticket", "expires_in").
    jsapi = JsapiSpec(
        kinds=(
            JsapiKind("jsapi", "GET", "/cgi-bin/ticket/getticket", (("type", "jsapi"),)),
            JsapiKind("wx_card", "GET", "/cgi-bin/ticket/getticket", (("type", "wx_card"),)),
        ),
        app_id_field="appid",
        docs_url="https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html",
    )
    endpoints = (
        Endpoint(
            "GET", "/cgi-bin/get_api_domain_ip", "获取微信 API 服务器 IP", "WeChat API server IPs"
        ),
    )

    # stable_token hands back the same token until 5 minutes before it expires, when it is
    # renewed (getStableAccessToken); cgi-bin/token issues a new one on every fetch.
    stable_policy = replace(refresh_policy, reissue_window=300, reissue_source=docs_url)

    def policy_for(self, values) -> RefreshPolicy:
        classic = (values.get("token_endpoint") or "stable") == "classic"
        return self.refresh_policy if classic else self.stable_policy

    def parse_ticket(self, status, headers, body) -> TicketGrant:
        return self.ticket_from(status, headers, body, ("ticket",), ("expires_in",))

    def token_request(self, base_url, creds) -> OutboundRequest:
        if (creds.get("token_endpoint") or "stable") == "classic":
            return OutboundRequest(
                "GET",
                join_url(base_url, "/cgi-bin/token"),
                params=[
                    ("grant_type", "client_credential"),
                    ("appid", creds.get("appid", "")),
                    ("secret", creds.get("secret", "")),
                ],
            )
        return OutboundRequest(
            "POST",
            join_url(base_url, "/cgi-bin/stable_token"),
            json={
                "grant_type": "client_credential",
                "appid": creds.get("appid", ""),
                "secret": creds.get("secret", ""),
                "force_refresh": False,
            },
        )

    def parse_token(self, status, headers, body) -> TokenGrant:
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        return with_query_token(request, "access_token", token)
