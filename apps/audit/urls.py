from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("events/<int:seq>/", views.event_detail, name="detail"),
    re_path(r"^export\.(?P<fmt>csv|jsonl)$", views.event_export, name="export"),
    path("verify/", views.chain_verify, name="verify"),
    path("lookup/", views.secret_lookup_page, name="lookup_page"),
    path("lookup/search/", views.secret_lookup, name="lookup"),
]
