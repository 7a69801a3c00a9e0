"""Flashduty (Flashcat) Open API: a static APP key in the query, no token. providers.md §A."""

from __future__ import annotations

from urllib.parse import parse_qsl

from .base import (
    Body,
    Classification,
    Decoded,
    Endpoint,
    Field,
    Notice,
    OutboundRequest,
    Provider,
    catalog,
    dig,
    first_header,
    join_url,
    keyed_webhook,
    text,
    to_int,
    with_query_token,
)

C = Classification

CATALOG = catalog(
    (
        "flashcatcloud/flashduty-docs api-reference/openapi.zh.json ErrorCode (https://docs.flashcat.cloud/zh/openapi/introduction)",
        {
            "InvalidParameter": (
                "参数缺失或不合法。",
                "A parameter is missing or invalid.",
                C.CLIENT_ERROR,
            ),
            "BadRequest": ("请求不合法。", "Bad request.", C.CLIENT_ERROR),
            "InvalidContentType": (
                "Content-Type 必须是 application/json。",
                "Content-Type must be application/json.",
                C.CLIENT_ERROR,
            ),
            "ResourceNotFound": (
                "资源不存在（或账户未购买该资源；HTTP 400）。",
                "Resource not found (or not purchased; HTTP 400).",
                C.CLIENT_ERROR,
            ),
            "NoLicense": ("没有有效的许可证。", "No valid licence.", C.CLIENT_ERROR),
            "ReferenceExist": (
                "仍被引用，无法删除。",
                "Still referenced; cannot delete.",
                C.CLIENT_ERROR,
            ),
            "Unauthorized": (
                "app_key 缺失、无效或已过期：请检查凭证（不可刷新）。",
                "app_key missing, invalid or expired: check the credential (not refreshable).",
                C.CREDENTIAL_INVALID,
            ),
            "BalanceNotEnough": ("账户余额不足。", "Balance too low.", C.QUOTA_EXHAUSTED),
            "AccessDenied": ("权限不足（RBAC 拒绝）。", "Access denied by RBAC.", C.CLIENT_ERROR),
            "RouteNotFound": ("方法或路径不存在。", "Unknown method and path.", C.CLIENT_ERROR),
            "MethodNotAllowed": ("请求方法不允许。", "Method not allowed.", C.CLIENT_ERROR),
            "UndonedOrderExist": (
                "存在未完成的订单。",
                "An unfinished order exists.",
                C.CLIENT_ERROR,
            ),
            "EntityTooLarge": ("请求体过大。", "Request body too large.", C.CLIENT_ERROR),
            "RequestLocked": (
                "多次失败后被临时锁定。",
                "Temporarily locked after repeated failures.",
                C.RATE_LIMITED,
            ),
            "RequestVerifyRequired": (
                "需要二次验证码。",
                "A second verification code is required.",
                C.CLIENT_ERROR,
            ),
            "DangerousOperation": (
                "危险操作，需要 MFA。",
                "Dangerous operation: MFA required.",
                C.CLIENT_ERROR,
            ),
            "RequestTooFrequently": (
                "请求过于频繁（全局、账户或集成级限流），请指数退避。",
                "Too many requests (global, account or integration limit); back off exponentially.",
                C.RATE_LIMITED,
            ),
            "InternalError": (
                "服务端内部错误；反馈时请附上 request_id。",
                "Internal error; quote the request_id when reporting it.",
                C.RETRYABLE,
            ),
            "ServiceUnavailable": (
                "后端依赖不可用，请稍后重试。",
                "A backend dependency is down; retry later.",
                C.RETRYABLE,
            ),
        },
    ),
)


class Flashduty(Provider):
    key = "flashduty"
    name_zh = "Flashduty 快猫星云"
    name_en = "Flashduty (Flashcat)"
    default_base_url = "https://api.flashcat.cloud"
    docs_url = "https://docs.flashcat.cloud/zh/openapi/introduction"
    fields = (
        Field(
            "app_key",
            "APP Key",
            "APP Key",
            secret=True,
            help_zh="控制台 → 账户设置 → APP Key；代表创建它的成员的全部权限。",
            help_en="Console → Account settings → APP Key; carries all permissions of the "
            "member who created it.",
        ),
    )
    catalog = CATALOG
    # Standard alert event push (flashcatcloud/itrs-geneos internal/flashduty/client.go):
    # event_status Critical/Warning/Info/Ok, the same alert_key triggers and resolves.
    alert_hosts = ("api.flashcat.cloud",)
    alert_path = "/event/push/alert/standard"
    alert_label_zh = "Flashduty 标准告警事件集成"
    alert_label_en = "Flashduty standard alert event integration"
    alert_docs_url = "https://docs.flashcat.cloud/zh/flashduty/custom-alert-integration-guide"
    endpoints = (
        Endpoint(
            "POST",
            "/incident/list",
            "故障列表（分页）",
            "List incidents (paged)",
            body={"p": 1, "limit": 20},
        ),
        Endpoint(
            "POST",
            "/incident/create",
            "创建故障",
            "Create an incident",
            body={"title": "CPU usage high", "incident_severity": "Warning"},
        ),
    )

    def probe_request(self, base_url, creds) -> OutboundRequest:
        return OutboundRequest(
            "POST", join_url(base_url, "/incident/list"), json={"p": 1, "limit": 1}
        )

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        out = with_query_token(request, "app_key", creds.get("app_key", ""))
        out.headers.setdefault("Content-Type", "application/json")
        return out

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        trace = ("", "")
        if isinstance(obj, dict) and isinstance(obj.get("request_id"), str) and obj["request_id"]:
            trace = (obj["request_id"][:200], "body:request_id")
        if not trace[0]:
            trace = first_header(headers, "Flashcat-Request-Id")
        if not isinstance(obj, dict):
            return self.malformed(status, body, trace)
        error = obj.get("error")
        if error is not None:
            code = text(dig(error, "code"), 64) or "Unknown"
            return Decoded(
                ok=False,
                http_status=status,
                classification=self.classify(code, status),
                code=code,
                message=text(dig(error, "message"), 1000),
                trace_id=trace[0],
                trace_id_source=trace[1],
            )
        if "data" not in obj:
            return self.malformed(status, body, trace)
        data = obj.get("data")
        ok = 200 <= status < 300
        next_page, where = None, ""
        if isinstance(data, dict) and data.get("has_next_page") is True:
            sent = request.json if request is not None and isinstance(request.json, dict) else {}
            if data.get("search_after_ctx"):
                next_page = {"search_after_ctx": text(data["search_after_ctx"], 2000)}
            else:
                current = to_int(sent.get("p")) or 1
                next_page = {"p": current + 1}
                if request is not None and not sent:
                    query = dict(parse_qsl(request.url.partition("?")[2]))
                    next_page = {"p": (to_int(query.get("p")) or 1) + 1}
            where = "body"
        return Decoded(
            ok=ok,
            http_status=status,
            classification=C.OK if ok else self.classify(None, status),
            code="OK" if ok else None,
            trace_id=trace[0],
            trace_id_source=trace[1],
            data=data,
            next_page=next_page,
            next_page_in=where,
        )

    def alert_request(self, url, secret, notice: Notice, now) -> OutboundRequest:
        address, params = keyed_webhook(self, url, "integration_key")
        status = "Ok" if notice.resolved else notice.severity.capitalize()
        if status not in ("Critical", "Warning", "Info", "Ok"):
            status = "Critical"
        description = notice.text + (f"\n{notice.link}" if notice.link else "")
        return OutboundRequest(
            "POST",
            address,
            params=params,
            headers={"Content-Type": "application/json"},
            json={
                "event_status": status,
                "alert_key": notice.key[:255],
                "title_rule": notice.title[:512],
                "description": description[:2048],
                "labels": {"source": "zhongkong"},
            },
        )
