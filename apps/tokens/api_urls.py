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
    path("tokens/<slug:slug>/tickets/<str:kind>", api.ticket_get, name="api-ticket"),
    path(
        "tokens/<slug:slug>/tickets/<str:kind>/refresh",
        api.ticket_refresh_post,
        name="api-ticket-refresh",
    ),
    path("tokens/<slug:slug>/jsapi-signature", api.jsapi_signature, name="api-jsapi-signature"),
    path("openapi.json", api.openapi, name="api-openapi"),
]
