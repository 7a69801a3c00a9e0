"""WeCom / 企业微信 (qyapi.weixin.qq.com). providers.md §F2."""

from __future__ import annotations

from urllib.parse import urlencode

from .base import (
    Classification,
    Endpoint,
    Field,
    Notice,
    OutboundRequest,
    Provider,
    RateLimit,
    RefreshPolicy,
    UserIdentity,
    UserOAuth,
    catalog,
    join_url,
    keyed_webhook,
    notice_lines,
    text,
    with_query_token,
)
from .jsapi import JsapiKind, JsapiSpec, TicketGrant
from .wechat import ErrcodeDecoderMixin

C = Classification
IDENTITY_PATH = "/cgi-bin/auth/getuserinfo"

CATALOG = catalog(
    (
        "https://developer.work.weixin.qq.com/document/path/90313 (全局错误码)",
        {
            0: ("成功。", "Success.", C.OK),
            -1: (
                "系统繁忙，请重试（最多 3 次）。",
                "System busy; retry (at most 3 times).",
                C.RETRYABLE,
            ),
            40001: (
                "secret 不合法（业务接口上为 access_token 不合法）：检查应用的 Secret 是否与 corpid 对应。",
                "Invalid secret (invalid credential): check the app's secret belongs to this corpid.",
                C.CREDENTIAL_INVALID,
            ),
            40003: ("UserID 不合法。", "Invalid UserID.", C.CLIENT_ERROR),
            40004: ("媒体文件类型不合法。", "Invalid media type.", C.CLIENT_ERROR),
            40005: ("文件类型不合法。", "Invalid file type.", C.CLIENT_ERROR),
            40006: ("文件大小不合法。", "Invalid file size.", C.CLIENT_ERROR),
            40007: ("media_id 不合法。", "Invalid media_id.", C.CLIENT_ERROR),
            40008: ("消息类型不合法。", "Invalid message type.", C.CLIENT_ERROR),
            40013: ("CorpID 不合法。", "Invalid CorpID.", C.CREDENTIAL_INVALID),
            40014: (
                "access_token 不合法，刷新后重试。",
                "Invalid access_token; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            40029: ("code 不合法。", "Invalid code.", C.CLIENT_ERROR),
            40031: ("UserID 列表不合法。", "Invalid UserID list.", C.CLIENT_ERROR),
            40033: ("请求字符不合法。", "Invalid characters in the request.", C.CLIENT_ERROR),
            40035: ("参数不合法。", "Invalid parameter.", C.CLIENT_ERROR),
            40054: ("子菜单 URL 域名不合法。", "Invalid sub-menu URL domain.", C.CLIENT_ERROR),
            40056: ("agentid 不合法。", "Invalid agentid.", C.CLIENT_ERROR),
            40058: (
                "参数不合法（缺少或格式错误）。",
                "Invalid parameter (missing or malformed).",
                C.CLIENT_ERROR,
            ),
            40063: ("参数为空。", "Empty parameter.", C.CLIENT_ERROR),
            40068: ("标签 ID 不合法。", "Invalid tag id.", C.CLIENT_ERROR),
            40070: ("指定的成员全部无效。", "All the given members are invalid.", C.CLIENT_ERROR),
            40091: (
                "secret 已失效（被重置），请使用新的 secret。",
                "The secret is no longer valid (it was reset); use the new one.",
                C.CREDENTIAL_INVALID,
            ),
            41001: ("缺少 access_token 参数。", "Missing access_token.", C.CLIENT_ERROR),
            41002: ("缺少 corpid 参数。", "Missing corpid.", C.CREDENTIAL_INVALID),
            41004: (
                "缺少 corpsecret 参数（Secret 为空）。",
                "Missing corpsecret (the secret is empty).",
                C.CREDENTIAL_INVALID,
            ),
            41006: ("缺少 media_id 参数。", "Missing media_id.", C.CLIENT_ERROR),
            41008: ("缺少 code 参数。", "Missing code.", C.CLIENT_ERROR),
            41009: ("缺少 userid 参数。", "Missing userid.", C.CLIENT_ERROR),
            41011: ("缺少 agentid 参数。", "Missing agentid.", C.CLIENT_ERROR),
            42001: (
                "access_token 已过期，刷新后重试。",
                "access_token expired; refresh and retry.",
                C.TOKEN_REJECTED,
            ),
            42007: ("pre_auth_code 已过期。", "pre_auth_code expired.", C.CLIENT_ERROR),
            42009: ("suite_access_token 已过期。", "suite_access_token expired.", C.TOKEN_REJECTED),
            43004: (
                "成员未激活或未关注。",
                "The member has not activated or followed.",
                C.CLIENT_ERROR,
            ),
            44001: ("多媒体文件为空。", "Empty media data.", C.CLIENT_ERROR),
            44004: ("文本消息内容为空。", "Empty text content.", C.CLIENT_ERROR),
            45001: ("多媒体文件大小超过限制。", "Media file too large.", C.CLIENT_ERROR),
            45002: ("消息内容大小超过限制。", "Message content too large.", C.CLIENT_ERROR),
            45009: ("接口调用超过限制。", "API call limit exceeded.", C.QUOTA_EXHAUSTED),
            45033: ("接口并发调用超过限制。", "API concurrency limit exceeded.", C.RATE_LIMITED),
            46003: ("菜单不存在。", "The menu does not exist.", C.CLIENT_ERROR),
            48002: (
                "API 接口无权限调用（检查应用权限与可见范围）。",
                "API not authorised (check the app's permissions and visibility).",
                C.CLIENT_ERROR,
            ),
            50001: (
                "redirect_url 未登记可信域名。",
                "redirect_url is not a trusted domain.",
                C.CLIENT_ERROR,
            ),
            50002: (
                "成员不在应用的可见范围内。",
                "The member is outside the app's visibility.",
                C.CLIENT_ERROR,
            ),
            50003: (
                "应用已停用或已删除。",
                "The app is disabled or deleted.",
                C.CREDENTIAL_INVALID,
            ),
            60003: ("部门不存在。", "The department does not exist.", C.CLIENT_ERROR),
            60011: (
                "指定的成员、部门或标签参数无权限。",
                "No permission for the given member, department or tag.",
                C.CLIENT_ERROR,
            ),
            60020: (
                "访问 IP 不在白名单中（应用 → 企业可信 IP）。",
                "The caller's IP is not in the allow-list (app → trusted IPs).",
                C.CLIENT_ERROR,
            ),
            60102: ("UserID 已存在。", "The UserID already exists.", C.CLIENT_ERROR),
            60111: ("UserID 不存在。", "The UserID does not exist.", C.CLIENT_ERROR),
            81013: (
                "UserID、部门 ID、标签 ID 全部非法或无权限。",
                "Every UserID, department id and tag id is invalid or not permitted.",
                C.CLIENT_ERROR,
            ),
            301002: (
                "无权限操作指定的应用。",
                "No permission to operate this app.",
                C.CLIENT_ERROR,
            ),
            6000: ("数据版本冲突。", "Data version conflict.", C.RETRYABLE),
        },
    )
)


ROBOT_CATALOG = catalog(
    (
        "https://developer.work.weixin.qq.com/document/path/91770 (群机器人); reply quoted in "
        "wes-lin/Cloud189Checkin#175 and qd-today/qd#586 (93000)",
        {
            93000: (
                "Webhook 地址无效（key 错误或机器人已移除）。",
                "The webhook address is invalid (wrong key, or the robot was removed).",
                C.CREDENTIAL_INVALID,
            ),
            45009: (
                "发送过快：每个机器人每分钟最多 20 条。",
                "Sent too fast: at most 20 messages a minute per robot.",
                C.RATE_LIMITED,
            ),
        },
    ),
)


class WeCom(ErrcodeDecoderMixin, Provider):
    key = "wecom"
    name_zh = "企业微信"
    name_en = "WeCom"
    default_base_url = "https://qyapi.weixin.qq.com"
    docs_url = "https://developer.work.weixin.qq.com/document/path/91039"
    id_field = "corpid"
    fields = (
        Field(
            "corpid",
            "企业 ID（corpid）",
            "Corp ID",
            help_zh="管理后台 → 我的企业 → 企业信息。",
            help_en="Admin console → My company → Company info.",
        ),
        Field(
            "corpsecret",
            "应用 Secret",
            "App secret",
            secret=True,
            help_zh="每个应用各自的 Secret；保存后不再显示。",
            help_en="Each app has its own secret; never shown after saving.",
        ),
        Field(
            "agentid",
            "应用 AgentId",
            "AgentId",
            required=False,
            help_zh="仅“验证成员身份”（企业微信登录）需要：应用管理 → 应用 → AgentId。",
            help_en="Needed only to verify a member's identity (WeCom sign-in): App → AgentId.",
        ),
    )
    # WeCom gives no token that acts as a member: its sign-in code only says who the member
    # is (/cgi-bin/auth/getuserinfo, asked with the app's own token).
    user_oauth = UserOAuth(
        authorize_url="/wwlogin/sso/login",
        token_path=IDENTITY_PATH,
        identity_only=True,
        docs_url="https://developer.work.weixin.qq.com/document/path/98152",
    )
    token_type = "access_token"
    # "有效期内重复获取返回相同结果，过期后获取会返回新的access_token" (获取access_token,
    # document/path/91039): a fetch hands back the same token for as long as it is valid.
    refresh_policy = RefreshPolicy(
        default_lifetime=7200,
        refresh_before=600,
        reissue_window=0,
        reissue_source="https://developer.work.weixin.qq.com/document/path/91039",
    )
    catalog = CATALOG
    # "每企业调用单个cgi/api不可超过1万次/分，15万次/小时" (访问频率限制, base frequency).
    default_rate_limits = (RateLimit(10000, 60), RateLimit(150000, 3600))
    rate_limit_docs = "https://developer.work.weixin.qq.com/document/path/90454"
    alert_hosts = ("qyapi.weixin.qq.com",)
    alert_path = "/cgi-bin/webhook/send"
    alert_label_zh = "企业微信群机器人"
    alert_label_en = "WeCom group robot"
    alert_docs_url = "https://developer.work.weixin.qq.com/document/path/91770"
    alert_catalog = ROBOT_CATALOG
    # JS-SDK tickets (JS-SDK 签名算法, document/path/96909): the corp's (get_jsapi_ticket) and
    # the app's (ticket/get?type=agent_config); at most 400 fetches an hour per corp, 100 per
    # app.
    jsapi = JsapiSpec(
        kinds=(
            JsapiKind("jsapi", "GET", "/cgi-bin/get_jsapi_ticket", hourly_cap=400),
            JsapiKind(
                "agent_config",
                "GET",
                "/cgi-bin/ticket/get",
                (("type", "agent_config"),),
                hourly_cap=100,
            ),
        ),
        app_id_field="corpid",
        docs_url="https://developer.work.weixin.qq.com/document/path/96909",
    )
    endpoints = (
        Endpoint(
            "GET", "/cgi-bin/user/get", "读取成员", "Get a member", query=(("userid", "zhangsan"),)
        ),
    )

    def token_request(self, base_url, creds) -> OutboundRequest:
        return OutboundRequest(
            "GET",
            join_url(base_url, "/cgi-bin/gettoken"),
            params=[
                ("corpid", creds.get("corpid", "")),
                ("corpsecret", creds.get("corpsecret", "")),
            ],
        )

    def parse_token(self, status, headers, body):
        return self._parse_token_grant(status, headers, body)

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        return with_query_token(request, "access_token", token)

    def authorize_url(self, base_url, creds, *, redirect_uri, state, scopes, code_challenge=""):
        # The web sign-in page lives on login.work.weixin.qq.com beside the API host; an
        # emulated origin serves both.
        host = base_url.rstrip("/")
        login = "https://login.work.weixin.qq.com" if host == self.default_base_url else host
        query = {
            "login_type": "CorpApp",
            "appid": creds.get("corpid", ""),
            "agentid": creds.get("agentid", ""),
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return join_url(login, self.user_oauth.authorize_url) + "?" + urlencode(query)

    def user_identity_request(self, base_url: str, token: str, *, code="") -> OutboundRequest:
        return OutboundRequest(
            "GET",
            join_url(base_url, IDENTITY_PATH),
            params=[("access_token", token), ("code", code)],
        )

    def parse_user_identity(self, status, headers, body) -> UserIdentity:
        decoded = self.decode(status, headers, body)
        data = decoded.data if isinstance(decoded.data, dict) else {}
        # A member has a userid; someone outside the corp only an openid.
        user_id = data.get("userid") or data.get("openid")
        decoded.data = None  # a member's user_ticket is not ours to pass on
        if not decoded.ok or not isinstance(user_id, str) or not user_id:
            if decoded.ok:
                decoded.ok, decoded.classification = False, C.MALFORMED
                decoded.problem = decoded.problem or "unexpected_shape"
            raise self.token_failure(decoded)
        return UserIdentity(user_id=text(user_id, 128))

    def parse_ticket(self, status, headers, body) -> TicketGrant:
        return self.ticket_from(status, headers, body, ("ticket",), ("expires_in",))

    def alert_request(self, url, secret, notice: Notice, now) -> OutboundRequest:
        address, params = keyed_webhook(self, url, "key")
        text = {"msgtype": "text", "text": {"content": notice_lines(notice)}}
        return OutboundRequest("POST", address, params=params, json=text)
