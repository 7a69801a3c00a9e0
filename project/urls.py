from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.signin import urls as signin_urls

urlpatterns = [
    path("", include("apps.home.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/platforms/", include("apps.signin.urls")),
    path(
        "accounts/platform-sign-in/",
        include((signin_urls.settings_urlpatterns, "signin"), namespace="signin"),
    ),
    path("credentials/", include("apps.vault.urls")),
    path("tokens/", include("apps.tokens.urls")),
    path("console/", include("apps.console.urls")),
    path("audit/", include("apps.audit.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("api/v1/", include("apps.tokens.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("djadmin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
