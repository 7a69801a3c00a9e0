from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "apps.tokens"
    label = "tokens"
    verbose_name = "Token centre"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the shared-cache deploy check
