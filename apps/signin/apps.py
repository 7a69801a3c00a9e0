from __future__ import annotations

from django.apps import AppConfig


class SignInConfig(AppConfig):
    name = "apps.signin"
    label = "signin"
    verbose_name = "Sign-in with the platforms"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
