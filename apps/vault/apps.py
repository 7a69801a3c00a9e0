from __future__ import annotations

from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "apps.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from apps.audit.forms import offer_choices
        from apps.providers.registry import PROVIDERS

        from . import checks  # noqa: F401 - registers the key canary check
        from .models import Credential

        offer_choices(
            "platform", lambda: [(k, f"{p.name_zh} / {p.name_en}") for k, p in PROVIDERS.items()]
        )
        # Deleted credentials too: their events outlive them.
        offer_choices(
            "credential", lambda: Credential.objects.order_by("slug").values_list("slug", "slug")
        )
