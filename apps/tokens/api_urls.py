from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("tokens/<slug:slug>", api.token_get, name="api-token"),
    path("tokens/<slug:slug>/refresh", api.token_refresh_post, name="api-token-refresh"),
    path("openapi.json", api.openapi, name="api-openapi"),
]
