"""The dashboard's home: the overview page, the health report and the metrics scrape."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from apps.accounts.models import Role
from apps.accounts.roles import ANY_ROLE, role_required
from apps.core.middleware import client_ip
from apps.core.models import Heartbeat
from apps.tokens.selectors import token_health_summary, token_rows
from apps.vault.models import Credential

from . import overview as charts
from .health import system_health
from .metrics import scrape


@require_GET
@role_required(*ANY_ROLE)
def overview(request: HttpRequest) -> HttpResponse:
    heartbeats = {hb.name: hb for hb in Heartbeat.objects.all()}
    context = {"heartbeats": heartbeats, "token_health": None}
    if request.user.role != Role.AUDITOR:
        now = timezone.now()
        rows = token_rows(request.user)
        credentials = (
            None  # an admin sees every credential: no list to filter by
            if request.user.role == Role.ADMIN
            else list(Credential.objects.visible_to(request.user).only("pk", "slug"))
        )
        context.update(
            token_health=token_health_summary(rows),
            timeline=charts.token_timeline(rows, now),
            activity=(activity := charts.activity(credentials, now)),
            activity_charts=[(k, activity[k]) for k in ("refreshes", "handouts", "sends")],
            caps=charts.caps(rows, now),
        )
    return render(request, "home/overview.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = system_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


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
