from __future__ import annotations

from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "apps.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the key canary check
