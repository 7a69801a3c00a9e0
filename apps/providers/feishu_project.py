"""飞书项目 / Feishu Project (Meegle) Open API. providers.md §D."""

from __future__ import annotations

import re
import uuid

from .base import (
    Body,
    Classification,
    Decoded,
    Endpoint,
    Field,
    OutboundRequest,
    Provider,
    RateLimit,
    RefreshPolicy,
    TokenGrant,
    catalog,
    dig,
    first_header,
    join_url,
    read_json,
    text,
    to_int,
)

C = Classification

CATALOG = catalog(
    (
        "https://project.feishu.cn/b/helpcenter/1p8d7djs/5aueo3jr (Open API 错误码)",
        {
            0: ("成功。", "Success.", C.OK),
            10021: (
                "请求未携带插件令牌（X-PLUGIN-TOKEN）。",
                "No plugin token (X-PLUGIN-TOKEN) was sent.",
                C.CLIENT_ERROR,
            ),
            10022: (
                "令牌校验失败（过期或无效），刷新后重试。",
                "Token check failed (expired or invalid); refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            10211: (
                "令牌信息无效：令牌无法解析，或使用插件令牌却未带 X-USER-KEY。",
                "Token info invalid: unparsable token, or a plugin token sent without X-USER-KEY.",
                C.CLIENT_ERROR,
            ),
            10210: ("授权码无效。", "Invalid authorisation code.", C.CLIENT_ERROR),
            10301: (
                "接口权限未申请/未发布/未安装，空间不存在，或操作人无空间权限；刷新令牌无效。",
                "API permission not applied for, published or installed, the space is missing, or the "
                "operator lacks rights; a new token will not help.",
                C.CLIENT_ERROR,
            ),
            10302: ("用户已离职。", "The user has left.", C.CLIENT_ERROR),
            10001: ("无权限。", "No permission.", C.CLIENT_ERROR),
            10002: (
                "非法操作（节点或状态流转不合法）。",
                "Illegal operation (node or state transition).",
                C.CLIENT_ERROR,
            ),
            10004: ("操作失败。", "Operation failed.", C.CLIENT_ERROR),
            10404: ("无空间权限。", "No project permission.", C.CLIENT_ERROR),
            13001: ("视图不存在。", "View does not exist.", C.CLIENT_ERROR),
            10429: (
                "同一令牌调用同一接口超过 15 QPS，请退避后重试。",
                "Over 15 QPS for the same token on the same API; back off and retry.",
                C.RATE_LIMITED,
            ),
            10430: (
                "幂等键（X-IDEM-UUID）冲突。",
                "Idempotency key (X-IDEM-UUID) conflict.",
                C.CLIENT_ERROR,
            ),
            20039: (
                "使用插件令牌时必须带 X-USER-KEY。",
                "A plugin token needs X-USER-KEY.",
                C.CLIENT_ERROR,
            ),
            20042: ("X-USER-KEY 缺失或错误。", "X-USER-KEY is missing or wrong.", C.CLIENT_ERROR),
            9999: (
                "请求体结构与接口不符。",
                "The body does not match the API's structure.",
                C.CLIENT_ERROR,
            ),
            1000051942: ("商业化用量超限。", "Commercial usage quota exceeded.", C.QUOTA_EXHAUSTED),
            50006: (
                "开放平台系统繁忙，请稍后重试。",
                "Open API system busy; retry later.",
                C.RETRYABLE,
            ),
            20001: (
                "参数超限（超过 100 个空间）。",
                "Parameter limit (over 100 spaces).",
                C.CLIENT_ERROR,
            ),
            20002: ("分页大小超过 200。", "Page size over 200.", C.CLIENT_ERROR),
            20005: ("缺少必填参数。", "Missing parameter.", C.CLIENT_ERROR),
            20006: ("参数不合法。", "Invalid parameter.", C.CLIENT_ERROR),
            20013: (
                "时间须为 13 位毫秒时间戳。",
                "Time must be a 13-digit millisecond timestamp.",
                C.CLIENT_ERROR,
            ),
            20014: ("空间与工作项不匹配。", "Project and work item do not match.", C.CLIENT_ERROR),
            20024: ("文件超过 100 MB。", "File over 100 MB.", C.CLIENT_ERROR),
            20028: ("工作项 id 超过 50 个。", "Over 50 work item ids.", C.CLIENT_ERROR),
            20038: ("必填字段未设置。", "A required field is not set.", C.CLIENT_ERROR),
            20043: ("视图 id 超过 10 个。", "Over 10 view ids.", C.CLIENT_ERROR),
            20055: ("搜索结果超过 2000 条。", "Search result over 2000.", C.CLIENT_ERROR),
            20057: ("空间 key 超过 10 个。", "Over 10 project keys.", C.CLIENT_ERROR),
            20064: ("选项超过 50 个。", "Over 50 options.", C.CLIENT_ERROR),
            20090: ("请求被插件拦截。", "Request intercepted by a plugin.", C.CLIENT_ERROR),
            30005: ("工作项不存在。", "Work item not found.", C.CLIENT_ERROR),
            30006: (
                "用户不存在（虚拟令牌只能看到插件协作者）。",
                "User not found (a virtual token sees plugin collaborators only).",
                C.CLIENT_ERROR,
            ),
            30007: ("工作流不存在。", "Workflow not found.", C.CLIENT_ERROR),
            30008: ("业务线不存在。", "Business line not found.", C.CLIENT_ERROR),
            30009: ("字段不存在。", "Field not found.", C.CLIENT_ERROR),
            30010: ("状态流不存在。", "State flow not found.", C.CLIENT_ERROR),
            30011: ("节点不存在。", "Node not found.", C.CLIENT_ERROR),
            30012: ("状态不存在。", "State not found.", C.CLIENT_ERROR),
            30015: ("记录不存在。", "Record not found.", C.CLIENT_ERROR),
        },
    ),
)

# Documented exceptions to the general 15 QPS per token per API.
_QPM_450 = [
    r"^/open_api/view/v1/update_condition_view$",
    r"^/open_api/work_items/filter_across_project$",
    r"^/open_api/work_item/subtask/search$",
    r"^/open_api/[^/]+/work_item/[^/]+/search/params$",
    r"^/open_api/[^/]+/work_item/filter$",
]
_QPS_10 = [
    r"^/open_api/[^/]+/work_item/[^/]+/[^/]+/search_by_relation$",
    r"^/open_api/work_item/actual_time/update$",
]
_READ_ONLY_POSTS = re.compile(r"/(filter|search|query|list)[^/]*$|/search/|/filter_across_project$")


class FeishuProject(Provider):
    key = "feishu_project"
    name_zh = "飞书项目"
    name_en = "Feishu Project (Meegle)"
    default_base_url = "https://project.feishu.cn"
    base_url_choices = (
        ("https://project.feishu.cn", "Feishu Project"),
        ("https://project.larksuite.com", "Meegle"),
    )
    docs_url = "https://project.feishu.cn/b/helpcenter/1p8d7djs/4bsmoql6"
    id_field = "plugin_id"
    fields = (
        Field(
            "plugin_id",
            "插件 ID",
            "Plugin ID",
            help_zh="插件开发 → 插件凭证。",
            help_en="Plugin development → plugin credentials.",
        ),
        Field(
            "plugin_secret",
            "插件密钥",
            "Plugin secret",
            secret=True,
            help_zh="插件凭证中的 plugin_secret。保存后不再显示。",
            help_en="The plugin_secret of the plugin credentials. Never shown after saving.",
        ),
        Field(
            "user_key",
            "X-USER-KEY",
            "X-USER-KEY",
            required=False,
            demo="7000000000000000001",
            help_zh="使用插件令牌时代表的用户（个人设置中可查）。",
            help_en="The user a plugin token acts as (see the user's profile).",
        ),
    )
    token_type = "plugin_access_token"
    refresh_policy = RefreshPolicy(default_lifetime=7200, refresh_before=600)
    catalog = CATALOG
    # Every API: 15 QPS per token ("服务端 API 调用限制"); the APIs the docs list otherwise
    # carry their own in the catalogue (the same figures rate_limits() keeps to).
    rate_limit_docs = docs_url
    # The catalogue holds the docs' whole API list (catalogue/feishu_project.jsonl); these
    # add a body skeleton to two of them.
    endpoints = (
        Endpoint(
            "POST",
            "/open_api/{project_key}/work_item/filter",
            "获取指定的工作项列表（单空间）",
            "Filter work items (one space)",
            body={"work_item_type_keys": ["story"], "page_num": 1, "page_size": 10},
            limit="15/s, 450/min",
        ),
        Endpoint(
            "POST",
            "/open_api/{project_key}/work_item/create",
            "创建工作项（幂等 X-IDEM-UUID）",
            "Create a work item (X-IDEM-UUID)",
            body={"work_item_type_key": "story", "name": "demo"},
        ),
    )

    def token_request(self, base_url, creds) -> OutboundRequest:
        return OutboundRequest(
            "POST",
            join_url(base_url, "/open_api/authen/plugin_token"),
            headers={"Content-Type": "application/json"},
            json={
                "plugin_id": creds.get("plugin_id", ""),
                "plugin_secret": creds.get("plugin_secret", ""),
                "type": 0,
            },
        )

    def parse_token(self, status, headers, body) -> TokenGrant:
        decoded = self.decode(status, headers, body)
        parsed = read_json(body).obj
        token, expire = dig(parsed, "data", "token"), to_int(dig(parsed, "data", "expire_time"))
        return self.grant(decoded, token, expire, "plugin_access_token")

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        out = request.copy()
        out.headers["X-PLUGIN-TOKEN"] = token or ""
        if creds.get("user_key") and not out.header("X-USER-KEY"):
            out.headers["X-USER-KEY"] = creds["user_key"]
        header = self.idempotency_header(out.method, out.path)
        if header and not out.header(header):
            out.headers[header] = str(uuid.uuid4())
        out.headers.setdefault("Content-Type", "application/json")
        return out

    def idempotency_header(self, method: str, path: str) -> str | None:
        if (
            method.upper() in {"POST", "PUT", "PATCH", "DELETE"}
            and "/authen/" not in path
            and not _READ_ONLY_POSTS.search(path)
        ):
            return "X-IDEM-UUID"
        return None

    def rate_limits(self, method: str, path: str) -> tuple[RateLimit, ...]:
        if any(re.match(p, path) for p in _QPS_10):
            return (RateLimit(10, 1),)
        if any(re.match(p, path) for p in _QPM_450):
            return (RateLimit(15, 1), RateLimit(450, 60))
        return (RateLimit(15, 1),)

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        trace = first_header(headers, "X-Tt-Logid", "X-Request-Id")
        if not trace[0]:
            log_id = dig(obj, "err", "log_id")
            if isinstance(log_id, str) and log_id:
                trace = (log_id[:200], "body:err.log_id")
        if not isinstance(obj, dict):
            return self.malformed(status, body, trace)
        if "err_code" in obj or isinstance(obj.get("err"), dict):
            code = to_int(obj.get("err_code"))
            if code is None:
                code = to_int(dig(obj, "err", "code"))
            message = text(obj.get("err_msg") or dig(obj, "err", "msg"), 1000)
        elif isinstance(obj.get("error"), dict):  # token endpoints: {data, error{code,msg}}
            code = to_int(dig(obj, "error", "code"))
            message = text(dig(obj, "error", "msg"), 1000)
        else:
            return self.malformed(status, body, trace)
        if code is None:
            return self.malformed(status, body, trace)
        ok = code == 0 and 200 <= status < 300
        next_page = None
        pagination = obj.get("pagination")
        if isinstance(pagination, dict):
            num, size, total = (
                to_int(pagination.get(k)) for k in ("page_num", "page_size", "total")
            )
            if num and size and total is not None and num * size < total:
                next_page = {"page_num": num + 1, "page_size": size}
        classification = C.OK if ok else self.classify(str(code), status)
        if code == 10211 and request is not None and request.header("X-USER-KEY"):
            classification = C.TOKEN_REJECTED  # the user key is there: the token itself is bad
        return Decoded(
            ok=ok,
            http_status=status,
            classification=classification,
            code=str(code),
            message=message,
            trace_id=trace[0],
            trace_id_source=trace[1],
            data=obj.get("data"),
            next_page=next_page,
            next_page_in="body" if next_page else "",
        )
