from __future__ import annotations

from django.urls import path

from . import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("keys/", views.client_keys, name="keys"),
    path("keys/<int:pk>/revoke/", views.client_key_revoke_page, name="key_revoke"),
    path("oauth/callback", views.grant_callback, name="oauth_callback"),
    path("oauth/invite", views.grant_invite, name="invite"),
    path("<slug:slug>/", views.token_detail, name="detail"),
    path("<slug:slug>/users/", views.grant_list, name="grants"),
    path("<slug:slug>/users/connect/", views.grant_connect_start, name="grant_connect"),
    path("<slug:slug>/users/invite/", views.grant_invite_create, name="grant_invite"),
    path("<slug:slug>/users/<int:pk>/revoke/", views.grant_revoke_page, name="grant_revoke"),
    path("<slug:slug>/refresh/", views.token_refresh_now, name="refresh"),
    path("<slug:slug>/cap-reset/", views.token_cap_reset, name="cap_reset"),
    path("<slug:slug>/tickets/sign/", views.ticket_sign_page, name="ticket_sign"),
    path(
        "<slug:slug>/tickets/<slug:kind>/refresh/", views.ticket_refresh_now, name="ticket_refresh"
    ),
]
