"""Freelog API: user JWT from login (cookie or Bearer), or HMAC-signed client headers.
providers.md §B."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode, urlsplit

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
JWT_LIFETIME = 1_296_000  # 15 days (identity service)

# Keyed by "ret/errCode" for the pairs that mean something on their own, then errCode alone.
CATALOG = catalog(
    (
        "yuliang0912/freelog-dev-doc-master README.md and egg-freelog-base lib/enum.ts (RetCodeEnum, ErrCodeEnum)",
        {
            "0": ("成功。", "Success.", C.OK),
            "1": (
                "内部错误（已自动上报）。",
                "Internal error (captured automatically).",
                C.RETRYABLE,
            ),
            "2": ("应用错误。", "Application error.", C.CLIENT_ERROR),
            "3": ("无权访问该资源。", "No permission on the resource.", C.CLIENT_ERROR),
            "4": ("参数校验失败。", "Argument validation failed.", C.CLIENT_ERROR),
            "5": ("内部 API 调用错误。", "Internal API call error.", C.RETRYABLE),
            "6": ("业务规则错误。", "Business rule error.", C.CLIENT_ERROR),
            "7": ("网络错误。", "Network error.", C.RETRYABLE),
            "8": ("应用路由未匹配。", "Application route not matched.", C.CLIENT_ERROR),
            "9": ("数据库连接错误。", "Database connection error.", C.RETRYABLE),
            "10": ("登录用户已被冻结。", "The signed-in user is frozen.", C.CREDENTIAL_INVALID),
            "30": (
                "认证失败，需要重新登录（JWT 过期或无效）。",
                "Authentication failed; log in again (JWT expired or invalid).",
                C.TOKEN_REJECTED,
            ),
            "31": ("网关组件调用错误。", "Gateway component error.", C.RETRYABLE),
            "32": ("网关路由未匹配。", "Gateway route not matched.", C.CLIENT_ERROR),
            "33": ("网关上游 API 错误。", "Gateway upstream API error.", C.RETRYABLE),
            "100": ("异常占位。", "Placeholder error.", C.CLIENT_ERROR),
            "ret:-10": ("服务器维护中。", "Server under maintenance.", C.RETRYABLE),
        },
    ),
)


def _jwt_lifetime(token: str, now: float) -> int:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = int(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return JWT_LIFETIME
    return max(0, exp - int(now))


class Freelog(Provider):
    key = "freelog"
    name_zh = "Freelog"
    name_en = "Freelog"
    default_base_url = "https://api.freelog.com"
    docs_url = "https://api.freelog.com"
    id_field = "login_name"
    fields = (
        Field(
            "auth_mode",
            "鉴权方式",
            "Authentication",
            required=False,
            default="jwt",
            choices=(("jwt", "JWT (login)"), ("client", "Client signature")),
        ),
        Field(
            "login_name",
            "登录名",
            "Login name",
            required=False,
            help_zh="JWT 方式：用户名、手机号或邮箱。",
            help_en="JWT mode: username, phone or email.",
        ),
        Field(
            "password",
            "密码",
            "Password",
            secret=True,
            required=False,
            help_zh="JWT 方式：6–24 位。",
            help_en="JWT mode: 6–24 characters.",
        ),
        Field(
            "client_id",
            "Client ID",
            "Client ID",
            required=False,
            help_zh="签名方式：Freelog 分配的 clientid。",
            help_en="Signature mode: issued by Freelog.",
        ),
        Field(
            "client_private_key",
            "Client 私钥",
            "Client private key",
            secret=True,
            required=False,
            help_zh="签名方式：HMAC-SHA1 签名密钥。",
            help_en="Signature mode: the HMAC-SHA1 signing key.",
        ),
    )
    token_type = "jwt"
    # On the login endpoint "authentication failed" means a wrong login or password.
    token_endpoint_credential_codes = frozenset({"30", "4", "10"})
    refresh_policy = RefreshPolicy(default_lifetime=JWT_LIFETIME, refresh_before=86_400)
    catalog = CATALOG
    endpoints = (
        Endpoint(
            "GET",
            "/v2/resources",
            "资源列表（skip/limit 分页）",
            "List resources (skip/limit)",
            query=(("skip", "0"), ("limit", "10")),
        ),
    )

    def uses_token_for(self, creds) -> bool:
        return (creds.get("auth_mode") or "jwt") == "jwt"

    def token_request(self, base_url, creds) -> OutboundRequest | None:
        if not self.uses_token_for(creds):
            return None
        return OutboundRequest(
            "POST",
            join_url(base_url, "/v2/passport/login"),
            headers={"Content-Type": "application/json"},
            json={
                "loginName": creds.get("login_name", ""),
                "password": creds.get("password", ""),
                "isRemember": 1,
                "jwtType": "header",
            },
        )

    def probe_request(self, base_url, creds) -> OutboundRequest:
        return OutboundRequest(
            "GET", join_url(base_url, "/v2/resources"), params=[("skip", "0"), ("limit", "1")]
        )

    def parse_token(self, status, headers, body, now: float | None = None) -> TokenGrant:
        decoded = self.decode(status, headers, body)
        auth = {k.lower(): v for k, v in (headers or {}).items()}.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        return self.grant(
            decoded,
            token or None,
            _jwt_lifetime(token, now or time.time()),
            "jwt",
            problem="no Authorization header with the JWT",
            user_id=dig(decoded.data, "userId"),
        )

    def apply_auth(self, request, creds, token) -> OutboundRequest:
        out = request.copy()
        # Freelog returns no request id; we send our own so both sides can name the call.
        out.headers.setdefault("traceId", uuid.uuid4().hex)
        if self.uses_token_for(creds):
            out.headers["Authorization"] = f"Bearer {token}"
            return out
        timeline = str(int(time.time()))
        parts = urlsplit(out.url)
        query = parts.query
        if out.params:
            query = "&".join(q for q in (query, urlencode(out.params)) if q)
        search = f"?{query}" if query else ""
        message = f"{parts.path}{search}&timeline={timeline}"
        key = creds.get("client_private_key", "").encode()
        out.headers.update(
            {
                "clientid": str(creds.get("client_id", "")),
                "timeline": timeline,
                "sign": hmac.new(key, message.encode(), hashlib.sha1).hexdigest(),
            }
        )
        return out

    def _decode(self, status, headers, body: Body, request) -> Decoded:
        obj = body.obj
        trace = ("", "")
        if request is not None and request.header("traceId"):
            trace = (request.header("traceId") or "", "request:traceId")
        if not isinstance(obj, dict) or "ret" not in obj:
            return self.malformed(status, body, trace)
        ret = to_int(obj.get("ret"))
        err = to_int(obj.get("errCode"))
        if err is None:
            err = to_int(obj.get("errcode"))
        if ret is None:
            return self.malformed(status, body, trace)
        err = err or 0
        ok = ret == 0 and err == 0 and 200 <= status < 300
        code = str(err) if err or ret == 0 else f"ret:{ret}"
        data = obj.get("data")
        next_page = None
        if ok and isinstance(data, dict) and isinstance(data.get("dataList"), list):
            skip, limit, total = (to_int(data.get(k)) for k in ("skip", "limit", "totalItem"))
            if skip is not None and limit and total is not None and skip + limit < total:
                next_page = {"skip": skip + limit, "limit": limit}
        return Decoded(
            ok=ok,
            http_status=status,
            classification=C.OK if ok else self.classify(code, status),
            code=code,
            message=text(obj.get("msg"), 1000),
            trace_id=trace[0],
            trace_id_source=trace[1],
            data=data,
            next_page=next_page,
            next_page_in="query" if next_page else "",
        )
