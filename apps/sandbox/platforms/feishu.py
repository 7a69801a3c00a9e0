"""Feishu / Lark Open Platform emulator: /sandbox/feishu/open-apis/..."""

from __future__ import annotations

import hashlib
import json
import secrets

from django.urls import path

from .. import core
from ..models import SandboxApp
from . import bots, declared, feishu_oauth, tickets, unknown
from .feishu_directory import USERS

P = "feishu"
FIX = "https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code"
MSG_TYPES = {
    "text",
    "post",
    "image",
    "file",
    "audio",
    "media",
    "sticker",
    "interactive",
    "share_chat",
    "share_user",
    "system",
}
ID_TYPES = {"open_id", "user_id", "union_id", "email", "chat_id"}


def _shape(kind: str):
    return lambda raw: "t-g1" + raw[:44]


def error(code: int, msg: str, status: int, **extra) -> object:
    logid = core.feishu_logid()
    err = {
        "log_id": logid,
        "message": f"Refer to the documentation to fix the error: {FIX}",
        **extra,
    }
    return core.jsonr(
        {"code": code, "msg": msg, "error": err}, status=status, headers={"X-Tt-Logid": logid}
    )


def ok(data: object) -> object:
    return core.jsonr(
        {"code": 0, "msg": "success", "data": data}, headers={"X-Tt-Logid": core.feishu_logid()}
    )


def _token(request, kind: str):
    """The token endpoints answer HTTP 200 whatever went wrong (the reply quoted in
    larksuite/oapi-sdk-java#33: "http status code:200, response:{code=10003, msg='invalid
    param'}"; 10014 "app id not exists" for an unknown app)."""
    logid = {"X-Tt-Logid": core.feishu_logid()}
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("app_id") or not body.get("app_secret"):
        return core.jsonr({"code": 10003, "msg": "invalid param"}, headers=logid)
    app = core.find_app(P, body["app_id"])
    if app is None:
        return core.jsonr({"code": 10014, "msg": "app id not exists"}, headers=logid)
    core.count_fetch(app)
    if not core.secret_matches(app, body["app_secret"]):
        return core.jsonr({"code": 10015, "msg": "app secret invalid"}, headers=logid)
    if app.frozen:
        return core.jsonr({"code": 10014, "msg": "app is not authorized"}, headers=logid)
    token, expire = core.issue_token(app, kind, mode=core.REUSE_UNTIL_WINDOW, shape=_shape(kind))
    return core.jsonr(
        {"code": 0, "msg": "ok", kind: token, "expire": expire},
        headers={"X-Tt-Logid": core.feishu_logid()},
    )


@core.endpoint(P, ("POST",))
def tenant_token(request):
    return _token(request, "tenant_access_token")


@core.endpoint(P, ("POST",))
def app_token(request):
    return _token(request, "app_access_token")


def _authorise(request, api: str):
    """Auth first, as the platform does. Returns (app, None) or (None, error response)."""
    token = core.bearer(request)
    if token is None or token == "":
        return None, error(
            99991661,
            "Missing access token for authorization. Please make a request with token attached.",
            400,
        )
    if not token.startswith(("t-", "u-", "eyJ")):
        return None, error(99991671, "Invalid token: must start with t- or u-", 400)
    state, found = core.check_token(P, token, ("tenant_access_token", "user_access_token"))
    if state != "valid":
        return None, error(
            99991663,
            "Invalid access token for authorization. Please make a request with token attached.",
            400,
        )
    app: SandboxApp = found.app
    limit = app.qps_limit or (50 if api == "messages" else 20)
    over, reset = core.over_limit(f"{P}:{app.pk}:{api}", limit)
    if over:
        response = error(99991400, "request trigger frequency limit", 429)
        response["x-ogw-ratelimit-limit"] = str(limit)
        response["x-ogw-ratelimit-reset"] = str(reset)
        return None, response
    return app, None


# The scope a sandbox app is never granted: asking for user ids needs it, and the platform
# answers 99991672 with a field_scope_required violation (the reply quoted in
# pppscn/SmsForwarder#589, where the recipient id type was user_id).
EMPLOYEE_ID_SCOPE = "contact:user.employee_id:readonly"
FIX_99991672 = (
    "https://open.feishu.cn/document/uAjLw4CM/ugTN1YjL4UTN24CO1UjN/trouble-shooting/"
    "how-to-fix-the-99991672-error"
)


def scope_denied(app: SandboxApp, scope: str, kind: str = "field_scope_required"):
    logid = core.feishu_logid()
    err = {
        "troubleshooter": "排查建议查看(Troubleshooting suggestions): https://open.feishu.cn/"
        f"search?from=openapi&log_id={logid}&code=99991672&method_id=0",
        "permission_violations": [{"type": kind, "subject": scope}],
        "helps": [
            {
                "url": f"https://open.feishu.cn/app/{app.app_id}/auth?q={scope}"
                "&op_from=openapi&token_type=tenant",
                "description": f"Learn more about scopes and how to add them: [{scope}]",
            }
        ],
        "message": f"Refer to the documentation to fix the error: {FIX_99991672}",
        "log_id": logid,
    }
    return core.jsonr(
        {
            "code": 99991672,
            "msg": f"Access denied. One of the following scopes is required: [{scope}]",
            "error": err,
        },
        status=400,
        headers={"X-Tt-Logid": logid},
    )


def _violation(field: str, description: str, value: str = ""):
    return error(
        99992402,
        "field validation failed",
        400,
        field_violations=[{"field": field, "value": value, "description": description}],
    )


@core.endpoint(P, ("POST",))
def messages(request):
    app, denied = _authorise(request, "messages")
    if denied:
        return denied
    id_type = request.GET.get("receive_id_type", "")
    if id_type == "user_id":
        return scope_denied(app, EMPLOYEE_ID_SCOPE)
    if not id_type:
        return _violation("receive_id_type", "receive_id_type is required")
    if id_type not in ID_TYPES:
        return _violation("receive_id_type", "receive_id_type is invalid", id_type)
    body = core.body_json(request)
    if not isinstance(body, dict):
        return error(9499, "Bad Request", 400)
    for field in ("receive_id", "msg_type", "content"):
        if not isinstance(body.get(field), str) or not body[field]:
            return _violation(field, f"{field} is required")
    if body["msg_type"] not in MSG_TYPES:
        return _violation("msg_type", "msg_type is invalid", body["msg_type"])
    try:
        content = json.loads(body["content"])
    except ValueError:
        return error(
            230001,
            "Your request contains an invalid request parameter, ext=invalid message content",
            400,
        )
    if body["msg_type"] == "text" and not (isinstance(content, dict) and content.get("text")):
        return error(
            230001, "Your request contains an invalid request parameter, ext=text is empty", 400
        )
    message = {
        "message_id": "om_" + secrets.token_hex(16),
        "root_id": "",
        "parent_id": "",
        "msg_type": body["msg_type"],
        "create_time": str(int(core.time.time() * 1000)),
        "update_time": str(int(core.time.time() * 1000)),
        "deleted": False,
        "updated": False,
        "chat_id": "oc_" + secrets.token_hex(16),
        "sender": {
            "id": app.app_id,
            "id_type": "app_id",
            "sender_type": "app",
            "tenant_key": "sandbox-tenant",
        },
        "body": {"content": body["content"]},
    }
    uuid = body.get("uuid")
    if isinstance(uuid, str) and uuid:
        from ..models import SandboxIdempotency

        stored, _ = SandboxIdempotency.objects.get_or_create(
            provider=P, key=f"{app.pk}:{uuid}", defaults={"body_hash": "", "response": message}
        )
        message = stored.response
    return ok(message)


@core.endpoint(P, ("GET",))
def user_detail(request, user_id: str):
    _, denied = _authorise(request, "users")
    if denied:
        return denied
    id_type = request.GET.get("user_id_type", "open_id")
    user = next((u for u in USERS if u.get(id_type) == user_id), None)
    if user is None:
        return error(41050, "no user authority error", 400)
    return ok({"user": user})


@core.endpoint(P, ("GET",))
def user_list(request):
    _, denied = _authorise(request, "users")
    if denied:
        return denied
    try:
        size = int(request.GET.get("page_size", "20"))
        start = int(request.GET.get("page_token") or 0)
    except ValueError:
        return _violation("page_token", "page_token is invalid", request.GET.get("page_token", ""))
    if not 1 <= size <= 100:
        return _violation("page_size", "page_size must be between 1 and 100", str(size))
    items = USERS[start : start + size]
    more = start + size < len(USERS)
    data = {"has_more": more, "items": items}
    if more:
        data["page_token"] = str(start + size)
    return ok(data)


@core.endpoint(P, ("POST",))
def images(request):
    """Upload an image (im/v1/images): multipart, image_type message|avatar, the file in
    `image`; the reply carries the image_key. A malformed upload is refused with 234001
    "Invalid request param." (the reply quoted in larksuite/node-sdk#44)."""
    _, denied = _authorise(request, "images")
    if denied:
        return denied
    # A file part, or (as lark-oapi sends a stream without a name) a plain form field.
    upload = request.FILES.get("image")
    image = upload.read() if upload else request.POST.get("image", "").encode()
    if (
        not request.content_type.startswith("multipart/form-data")
        or request.POST.get("image_type", "") not in ("message", "avatar")
        or not image
    ):
        return error(234001, "Invalid request param.", 400)
    digest = hashlib.sha256(image).hexdigest()
    return ok(
        {
            "image_key": f"img_v2_{digest[:8]}-{digest[8:12]}-{digest[12:16]}-"
            f"{digest[16:20]}-{digest[20:32]}g"
        }
    )


@core.endpoint(P, ("POST",))
def jssdk_ticket(request):
    app, refused = _authorise(request, "ticket")
    if refused is not None:
        return refused
    ticket, expires = tickets.issue(app, "jsapi")
    return core.jsonr(
        {"code": 0, "msg": "ok", "data": {"expire_in": expires, "ticket": ticket}},
        headers={"X-Tt-Logid": core.feishu_logid()},
    )


urlpatterns = [
    path("open-apis/jssdk/ticket/get", jssdk_ticket),
    path("open-apis/auth/v3/tenant_access_token/internal", tenant_token),
    path("open-apis/auth/v3/app_access_token/internal", app_token),
    path("open-apis/im/v1/messages", messages),
    path("open-apis/im/v1/images", images),
    path("open-apis/contact/v3/users", user_list),
    path("open-apis/contact/v3/users/<str:user_id>", user_detail),
    path("open-apis/bot/v2/hook/<str:key>", core.endpoint(P, ("POST",))(bots.feishu_hook)),
]
urlpatterns += feishu_oauth.urlpatterns
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above
# A catalogued API not emulated above answers with the reply its SDK declares.
unknown.DECLARED[P] = lambda request: declared.feishu(request, _authorise)

handler404, handler500 = unknown.error_handlers(P)
