"""What the token centre does when another part of the product tells it something."""

from __future__ import annotations

from django.dispatch import receiver

from apps.vault.signals import token_fetched

from . import services


@receiver(token_fetched)
def _keep_tested_token(sender, credential, grant, actor=None, **kwargs) -> None:
    services.token_store_tested(credential=credential, grant=grant, actor=actor)
