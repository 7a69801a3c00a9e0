from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("tokens/<slug:slug>", api.token_get, name="api-token"),
    path("tokens/<slug:slug>/refresh", api.token_refresh_post, name="api-token-refresh"),
    path("tokens/<slug:slug>/users/<str:user_id>", api.user_token_get, name="api-user-token"),
    path(
        "tokens/<slug:slug>/users/<str:user_id>/refresh",
        api.user_token_refresh_post,
        name="api-user-token-refresh",
    ),
    path("openapi.json", api.openapi, name="api-openapi"),
]
