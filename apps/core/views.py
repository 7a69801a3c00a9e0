from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.models import Role
from apps.accounts.roles import ANY_ROLE, role_required
from apps.tokens.selectors import token_health_summary

from .health import system_health
from .models import Heartbeat


@require_GET
@role_required(*ANY_ROLE)
def overview(request: HttpRequest) -> HttpResponse:
    heartbeats = {hb.name: hb for hb in Heartbeat.objects.all()}
    health = token_health_summary(request.user) if request.user.role != Role.AUDITOR else None
    return render(request, "core/overview.html", {"heartbeats": heartbeats, "token_health": health})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = system_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
