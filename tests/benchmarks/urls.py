from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET


@require_GET
def bare(request):
    """The floor: the same middleware stack, no work."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare", bare),
    path("", include("project.urls")),
]
