"""The token API's routes at their public paths, for the lean handler (project/wsgi.py).
Unknown paths and failures under it answer the API's JSON, never the pages' HTML."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/v1/", include("apps.tokens.api_urls"))]
handler404 = "apps.tokens.api.not_found"
handler500 = "apps.tokens.api.server_error"
