"""The token API's routes at their public paths, for the lean handler (project/wsgi.py)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/v1/", include("apps.tokens.api_urls"))]
