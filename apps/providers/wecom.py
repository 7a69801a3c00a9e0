"""WeCom / 企业微信 (qyapi.weixin.qq.com). providers.md §F2."""

from __future__ import annotations

from .base import (
    Classification,
    Endpoint,
    Field,
    OutboundRequest,
    Provider,
    RefreshPolicy,
    catalog,
    join_url,
    with_query_token,
)
from .wechat import ErrcodeDecoderMixin

C = Classification

CATALOG = catalog({
    0: ("成功。", "Success.", C.OK),
    -1: ("系统繁忙，请重试（最多 3 次）。", "System busy; retry (at most 3 times).", C.RETRYABLE),
    40001: ("secret 不合法。", "Invalid secret.", C.CREDENTIAL_INVALID),
    40013: ("CorpID 不合法。", "Invalid CorpID.", C.CREDENTIAL_INVALID),
    40014: ("access_token 不合法，刷新后重试。", "Invalid access_token; refresh and retry.",
            C.TOKEN_REJECTED),
    40091: ("secret 已失效。", "The secret is no longer valid.", C.CREDENTIAL_INVALID),
    41001: ("缺少 access_token 参数。", "Missing access_token.", C.CLIENT_ERROR),
    42001: ("access_token 已过期，刷新后重试。", "access_token expired; refresh and retry.",
            C.TOKEN_REJECTED),
    45009: ("接口调用超过限制。", "API call limit exceeded.", C.QUOTA_EXHAUSTED),
    45033: ("接口并发调用超过限制。", "API concurrency limit exceeded.", C.RATE_LIMITED),
    48002: ("API 接口无权限调用。", "API not authorised.", C.CLIENT_ERROR),
    60020: ("访问 IP 不在白名单中。", "IP not in the allow-list.", C.CLIENT_ERROR),
    6000: ("数据版本冲突。", "Data version conflict.", C.RETRYABLE),
})


class WeCom(ErrcodeDecoderMixin, Provider):
    key = "wecom"
    name_zh = "企业微信"
    name_en = "WeCom"
    default_base_url = "https://qyapi.weixin.qq.com"
    docs_url = "https://developer.work.weixin.qq.com/document/path/91039"
    id_field = "corpid"
    fields = (
        Field("corpid", "企业 ID（corpid）", "Corp ID", help_zh="管理后台 → 我的企业 → 企业信息。",
              help_en="Admin console → My company → Company info."),
        Field("corpsecret", "应用 Secret", "App secret", secret=True,
              help_zh="每个应用各自的 Secret；保存后不再显示。",
              help_en="Each app has its own secret; never shown after saving."),
    )
    token_type = "access_token"
    refresh_policy = RefreshPolicy(default_lifetime=7200, refresh_before=600)
    catalog = CATALOG
    endpoints = (
        Endpoint("GET", "/cgi-bin/user/get", "读取成员", "Get a member",
                 query=(("userid", "zhangsan"),)),
    )

    def token_request(self, base_url, creds) -> OutboundRequest:
        return OutboundRequest("GET", join_url(base_url, "/cgi-bin/gettoken"), params=[
            ("corpid", creds.get("corpid", "")), ("corpsecret", creds.get("corpsecret", ""))])

    def parse_token(self, status, headers, body):
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        return with_query_token(request, "access_token", token)
