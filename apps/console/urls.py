from __future__ import annotations

from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.console_page, name="page"),
    path("send/", views.console_send_view, name="send"),
    path("import/", views.console_import, name="import"),
    path("export/", views.console_export, name="export"),
    path("history/", views.history, name="history"),
    path("history/<int:pk>/", views.history_detail, name="history_detail"),
    path("history/<int:pk>/replay/", views.replay, name="replay"),
    path("preview/", views.console_preview, name="preview"),
    path("catalogue/", views.catalogue_search, name="catalogue"),
    path("saved/", views.saved_list, name="saved"),
    path("saved/save/", views.saved_save, name="saved_save"),
    path("saved/export.postman.json", views.saved_export, name="saved_export"),
    path("saved/import/", views.saved_import, name="saved_import"),
    path("saved/<int:pk>/delete/", views.saved_delete, name="saved_delete"),
]
