from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from apps.accounts.models import Role
from apps.accounts.roles import ANY_ROLE, role_required
from apps.tokens.selectors import token_health_summary, token_rows
from apps.vault.models import Credential

from . import overview as charts
from .health import system_health
from .metrics import scrape
from .middleware import client_ip
from .models import Heartbeat


@require_GET
@role_required(*ANY_ROLE)
def overview(request: HttpRequest) -> HttpResponse:
    heartbeats = {hb.name: hb for hb in Heartbeat.objects.all()}
    context = {"heartbeats": heartbeats, "token_health": None}
    if request.user.role != Role.AUDITOR:
        now = timezone.now()
        rows = token_rows(request.user)
        credentials = list(Credential.objects.visible_to(request.user).only("pk", "slug"))
        context.update(
            token_health=token_health_summary(rows),
            timeline=charts.token_timeline(rows, now),
            activity=(activity := charts.activity(credentials, now)),
            activity_charts=[(k, activity[k]) for k in ("refreshes", "handouts", "sends")],
            caps=charts.caps(rows, now),
        )
    return render(request, "core/overview.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = system_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; a 503 saying the database is away when that is what failed (a page
    cannot be drawn without it, and it will come back: Retry-After). Drawn from the template
    alone: a request context would ask the database for the user again."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503_database.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, for a scraper on an allowed address or with the token."""
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = (
        settings.METRICS_TOKEN
        and hmac.compare_digest(presented.encode(), settings.METRICS_TOKEN.encode())
    ) or (client_ip(request) in settings.METRICS_ALLOWED_IPS)
    if not allowed:
        return HttpResponse(
            "metrics: not from this address without the scrape token\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
