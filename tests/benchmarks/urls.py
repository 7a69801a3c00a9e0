from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET


@require_GET
def bare(request):
    """The floor: the same middleware stack, no work."""
    return JsonResponse({"ok": True})


def plain(request):
    """The same JSON from a Django view that nothing stands in front of (tests/benchmarks/
    wsgi.py serves it without middleware)."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare", bare),
    path("bench/plain", plain),
    path("", include("project.urls")),
]
