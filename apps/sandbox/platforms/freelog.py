"""Freelog emulator: /sandbox/freelog/v2/... (JWT login, cookie or Bearer, client signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.urls import path

from .. import core
from . import unknown

P = "freelog"
RESOURCES = [
    {
        "resourceId": f"{i:024x}",
        "resourceName": f"demo/resource-{i}",
        "resourceType": ["image"],
        "status": 1,
    }
    for i in range(1, 61)
]


def envelope(data=None, *, ret: int = 0, err: int = 0, msg: str = "success", gateway=False):
    body = {"ret": ret, "errCode": err, "msg": msg, "data": data}
    if not gateway:
        body["errcode"] = err  # the lower-case duplicate "for old clients"; gateway omits it
    return body


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(app, lifetime: int) -> str:
    now = int(time.time())
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(
        json.dumps(
            {
                "userId": 50000 + app.pk,
                "username": app.app_id,
                "userType": 1,
                "iss": "https://identity.freelog.com",
                "sub": str(50000 + app.pk),
                "aud": "freelog-website",
                "exp": now + lifetime,
                "iat": now,
                "jti": core._mac(f"jti:{app.pk}:{time.time_ns()}")[:32],
            }
        ).encode()
    )
    signature = _b64(hmac.new(core._key(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def _jwt_user(token: str):
    try:
        header, payload, signature = token.split(".")
        expected = _b64(
            hmac.new(core._key(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        )
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if not hmac.compare_digest(signature, expected) or claims.get("exp", 0) < time.time():
        return None
    return claims


@core.endpoint(P, ("POST",))
def login(request):
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("loginName") or not body.get("password"):
        return core.jsonr(envelope(ret=0, err=4, msg="参数校验失败"))
    app = core.find_app(P, body["loginName"])
    if app is not None:
        core.count_fetch(app)
    if app is None or not core.secret_matches(app, body["password"]):
        return core.jsonr(envelope(ret=0, err=30, msg="用户名或密码错误"))
    token = _jwt(app, app.token_lifetime)
    user = {
        "userId": 50000 + app.pk,
        "username": app.app_id,
        "mobile": "",
        "email": "",
        "tokenSn": token.rsplit(".", 1)[0][-16:],
    }
    response = core.jsonr(envelope(user))
    if body.get("jwtType") == "header":
        response["Authorization"] = f"Bearer {token}"
    else:
        max_age = 7 * 86400 if body.get("isRemember") == 1 else None
        response.set_cookie("authInfo", token, max_age=max_age, httponly=True)
        response.set_cookie("uid", str(50000 + app.pk), max_age=max_age)
    return response


def _client_signature_ok(request) -> bool:
    client_id, timeline, sign = (
        request.headers.get(h, "") for h in ("clientid", "timeline", "sign")
    )
    if not (client_id and timeline.isdigit() and sign):
        return False
    if abs(int(timeline) - time.time()) > 180:
        return False
    app = core.find_app(P, f"client:{client_id}")
    if app is None:
        return False
    query = request.META.get("QUERY_STRING", "")
    pathname = request.path.split(f"/sandbox/{P}", 1)[-1]
    message = f"{pathname}{'?' + query if query else ''}&timeline={timeline}"
    key = core.app_secret(P, app.app_id).encode()
    return hmac.compare_digest(sign, hmac.new(key, message.encode(), hashlib.sha1).hexdigest())


@core.endpoint(P, ("GET",))
def resources(request):
    # Cookie wins over the header when both are sent, as the gateway does.
    token = request.COOKIES.get("authInfo") or core.bearer(request) or ""
    if not (token and _jwt_user(token)) and not _client_signature_ok(request):
        return core.jsonr(
            envelope(
                {
                    "routeId": "resources-list",
                    "httpComponentRules": ["jwt"],
                    "componentProcessResults": [],
                },
                ret=4,
                err=30,
                msg="认证失败",
                gateway=True,
            )
        )
    try:
        skip = int(request.GET.get("skip", "0"))
        limit = int(request.GET.get("limit", "10"))
    except ValueError:
        return core.jsonr(envelope(ret=0, err=4, msg="参数校验失败"))
    if skip < 0 or not 1 <= limit <= 100:
        return core.jsonr(envelope(ret=0, err=4, msg="参数校验失败: limit 1-100"))
    return core.jsonr(
        envelope(
            {
                "skip": skip,
                "limit": limit,
                "totalItem": len(RESOURCES),
                "dataList": RESOURCES[skip : skip + limit],
            }
        )
    )


urlpatterns = [
    path("v2/passport/login", login),
    path("v2/resources", resources),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

handler404, handler500 = unknown.error_handlers(P)
