"""The platforms' sign-in routes, under the names allauth reverses (`<provider id>_login`,
`_callback`, and its socialaccount pages), plus the admins' settings page."""

from __future__ import annotations

from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.urls import include, path
from django.views.generic import RedirectView

from . import views
from .provider import provider_classes

urlpatterns = []
for _cls in provider_classes:
    _adapter = _cls.oauth2_adapter_class
    urlpatterns += [
        path(
            f"{_cls.platform_key}/login/",
            views.when_offered(_cls.platform_key, OAuth2LoginView.adapter_view(_adapter)),
            name=f"{_cls.id}_login",
        ),
        path(
            f"{_cls.platform_key}/login/callback/",
            views.when_offered(_cls.platform_key, OAuth2CallbackView.adapter_view(_adapter)),
            name=f"{_cls.id}_callback",
        ),
    ]
urlpatterns += [
    path("", include("allauth.socialaccount.urls")),
    # Names allauth's flows reverse, answered by Zhongkong's own pages.
    path("sign-in/", RedirectView.as_view(pattern_name="accounts:login"), name="account_login"),
    path("sign-up/", RedirectView.as_view(pattern_name="accounts:login"), name="account_signup"),
    path("inactive/", RedirectView.as_view(pattern_name="accounts:login"), name="account_inactive"),
]

settings_urlpatterns = [path("", views.platform_settings, name="settings")]
