from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "apps.tokens"
    label = "tokens"
    verbose_name = "Token centre"

    def ready(self) -> None:
        # The shared-cache deploy check; keeping the tokens "test connection" fetched.
        from . import checks, receivers  # noqa: F401
