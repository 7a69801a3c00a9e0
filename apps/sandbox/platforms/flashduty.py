"""Flashduty (Flashcat) emulator: /sandbox/flashduty/..."""

from __future__ import annotations

import secrets

from django.urls import path, re_path

from .. import core
from ..models import SandboxApp
from . import bots, unknown

P = "flashduty"
INCIDENTS = [
    {
        "incident_id": f"{i:024x}",
        "title": f"CPU 使用率过高 #{i}",
        "incident_severity": ("Critical", "Warning", "Info")[i % 3],
        "progress": "Triggered",
    }
    for i in range(1, 38)
]


def _reply(payload: dict, status: int = 200):
    request_id = core.ulid()
    return core.jsonr(
        {"request_id": request_id, **payload},
        status=status,
        headers={"Flashcat-Request-Id": request_id},
    )


def fail(code: str, message: str, status: int):
    return _reply({"error": {"code": code, "message": message}}, status)


def _authorise(request):
    """Auth first: the app_key in the query names the app (its derived secret *is* the key)."""
    key = request.GET.get("app_key", "")
    app = (
        next(
            (a for a in SandboxApp.objects.filter(provider=P) if core.secret_matches(a, key)), None
        )
        if key
        else None
    )
    if app is None:
        return None, fail("Unauthorized", "You are unauthorized.", 401)
    if request.content_type != "application/json":
        return None, fail("InvalidContentType", "Content-Type must be application/json", 400)
    over, _ = core.over_limit(f"{P}:{app.pk}", app.qps_limit or 50)
    if over:
        return None, fail("RequestTooFrequently", "Request too frequently.", 429)
    body = core.body_json(request)
    if body is None and request.body:
        return None, fail("InvalidParameter", "Request body is not valid JSON.", 400)
    return (app, body if isinstance(body, dict) else {}), None


@core.endpoint(P, ("POST",))
def incident_list(request):
    auth, denied = _authorise(request)
    if denied:
        return denied
    _, body = auth
    p, limit = body.get("p", 1), body.get("limit", 20)
    if not isinstance(p, int) or not isinstance(limit, int) or p < 1 or not 1 <= limit <= 100:
        return fail("InvalidParameter", "p must be >= 1 and limit between 1 and 100", 400)
    if p * limit > 10_000:
        return fail("InvalidParameter", "p * limit must not exceed 10000", 400)
    items = INCIDENTS[(p - 1) * limit : p * limit]
    return _reply(
        {
            "data": {
                "items": items,
                "total": min(len(INCIDENTS), 1000),
                "has_next_page": p * limit < len(INCIDENTS),
            }
        }
    )


@core.endpoint(P, ("POST",))
def incident_create(request):
    auth, denied = _authorise(request)
    if denied:
        return denied
    _, body = auth
    title = body.get("title")
    if not isinstance(title, str) or not 3 <= len(title) <= 200:
        return fail("InvalidParameter", "title is required (3-200 characters)", 400)
    if body.get("incident_severity", "Warning") not in ("Critical", "Warning", "Info"):
        return fail("InvalidParameter", "incident_severity is invalid", 400)
    return _reply({"data": {"incident_id": secrets.token_hex(12)}})


@core.endpoint(P, ("GET", "POST", "PUT", "DELETE", "PATCH"))
def route_not_found(request, rest: str = ""):
    _, denied = _authorise(request)
    if denied:
        return denied
    return fail("RouteNotFound", "Route not found.", 404)


urlpatterns = [
    path("event/push/alert/standard", core.endpoint(P, ("POST",))(bots.flashduty_event)),
    path("incident/list", incident_list),
    path("incident/create", incident_create),
    re_path(r"^(?P<rest>.*)$", route_not_found),
]

handler404, handler500 = unknown.error_handlers(P)
