from __future__ import annotations

from django.urls import path

from . import views

app_name = "vault"

urlpatterns = [
    path("", views.credential_list, name="list"),
    path("new/", views.credential_new, name="new"),
    path("new/<str:provider>/", views.credential_create, name="create"),
    path("<slug:slug>/", views.credential_detail, name="detail"),
    path("<slug:slug>/edit/", views.credential_edit, name="edit"),
    path("<slug:slug>/test/", views.credential_test, name="test"),
    path("<slug:slug>/reveal/", views.credential_reveal, name="reveal"),
    path("<slug:slug>/enabled/", views.credential_toggle, name="toggle"),
    path("<slug:slug>/delete/", views.credential_delete, name="delete"),
]
