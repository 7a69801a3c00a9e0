"""Feishu Project (Meegle) emulator: /sandbox/feishu_project/open_api/..."""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.urls import path

from .. import core
from ..models import SandboxIdempotency
from . import unknown

P = "feishu_project"
WORK_ITEMS = [
    {
        "id": 1000 + i,
        "name": f"需求 {i}",
        "work_item_type_key": "story",
        "project_key": "demo",
        "simple_name": "demo",
    }
    for i in range(1, 38)
]


def _headers() -> dict[str, str]:
    return {"X-Tt-Logid": core.feishu_logid()}


def fail(code: int, msg: str, status: int):
    logid = core.feishu_logid()
    return core.jsonr(
        {
            "err_code": code,
            "err_msg": msg,
            "err": {"code": code, "msg": msg, "log_id": logid},
            "data": None,
        },
        status=status,
        headers={"X-Tt-Logid": logid},
    )


def ok(data, **extra):
    return core.jsonr(
        {"err_code": 0, "err_msg": "", "err": {}, "data": data, **extra}, headers=_headers()
    )


@core.endpoint(P, ("POST",))
def plugin_token(request):
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("plugin_id") or not body.get("plugin_secret"):
        return core.jsonr(
            {"data": None, "error": {"code": 20005, "msg": "Missing Param"}},
            status=400,
            headers=_headers(),
        )
    app = core.find_app(P, body["plugin_id"])
    if app is not None:
        core.count_fetch(app)
    if app is None or not core.secret_matches(app, body["plugin_secret"]):
        return core.jsonr(
            {
                "data": None,
                "error": {
                    "code": 20006,
                    "msg": "Invalid Param: plugin_id or plugin_secret is wrong",
                },
            },
            status=400,
            headers=_headers(),
        )
    virtual = body.get("type") == 1
    kind = "virtual_plugin_token" if virtual else "plugin_token"
    token, expire = core.issue_token(
        app,
        kind,
        mode=core.REUSE_WHILE_VALID,
        shape=lambda raw: ("v-" if virtual else "p-") + raw[:36],
    )
    return core.jsonr(
        {"data": {"token": token, "expire_time": expire}, "error": {"code": 0, "msg": "success"}},
        headers=_headers(),
    )


def _authorise(request, api: str):
    token = request.headers.get("X-PLUGIN-TOKEN", "")
    if not token:
        return None, fail(10021, "Token Not Exist", 401)
    state, found = core.check_token(P, token, ("plugin_token", "virtual_plugin_token"))
    if state != "valid":
        return None, fail(10022, "Check Token Failed", 401)
    if found.kind == "plugin_token" and not request.headers.get("X-USER-KEY"):
        return None, fail(10211, "Token Info Is Invalid", 403)
    over, _ = core.over_limit(f"{P}:{found.token_hash[:16]}:{api}", found.app.qps_limit or 15)
    if not over and api.endswith("/work_item/filter"):  # also 450 a minute (platform docs 003)
        over, _ = core.over_limit(f"{P}:{found.token_hash[:16]}:{api}:min", 450, per=60)
    if over:
        return None, fail(10429, "API Request Frequency Limit", 429)
    return found, None


@core.endpoint(P, ("POST",))
def work_item_filter(request, project_key: str):
    _, denied = _authorise(request, f"{project_key}/work_item/filter")
    if denied:
        return denied
    body = core.body_json(request)
    if not isinstance(body, dict):
        return fail(9999, "Invalid Param", 400)
    num, size = body.get("page_num", 1), body.get("page_size", 10)
    if not isinstance(num, int) or not isinstance(size, int) or num < 1 or size < 1:
        return fail(20006, "Invalid Param", 400)
    if size > 200:
        return fail(20002, "Page Size Limit", 400)
    items = [w for w in WORK_ITEMS if w["project_key"] == project_key]
    page = items[(num - 1) * size : num * size]
    return ok(page, pagination={"page_num": num, "page_size": size, "total": len(items)})


@core.endpoint(P, ("POST",))
def work_item_create(request, project_key: str):
    found, denied = _authorise(request, f"{project_key}/work_item/create")
    if denied:
        return denied
    body = core.body_json(request)
    if not isinstance(body, dict) or not body.get("work_item_type_key") or not body.get("name"):
        return fail(20005, "Missing Param", 400)
    created = {
        "data": 5_000_000
        + int(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:6], 16)
    }
    key = request.headers.get("X-IDEM-UUID")
    if not key:
        return ok(created["data"])
    body_hash = hashlib.sha256(request.body).hexdigest()
    scoped = f"{found.app_id}:{key}"
    try:
        with transaction.atomic():
            SandboxIdempotency.objects.create(
                provider=P, key=scoped, body_hash=body_hash, response=created
            )
    except IntegrityError:
        stored = SandboxIdempotency.objects.get(provider=P, key=scoped)
        if stored.body_hash != body_hash:
            return fail(10430, "API Request Idempotent Limit", 429)
        created = stored.response
    return ok(created["data"])


urlpatterns = [
    path("open_api/authen/plugin_token", plugin_token),
    path("open_api/<str:project_key>/work_item/filter", work_item_filter),
    path("open_api/<str:project_key>/work_item/create", work_item_create),
]
urlpatterns.append(unknown.catch_all(P))  # last: every path not emulated above

handler404, handler500 = unknown.error_handlers(P)
