"""What the token centre does when another part of the product tells it something."""

from __future__ import annotations

from django.dispatch import receiver

from apps.vault.signals import token_fetch_refused, token_fetched

from . import services


@receiver(token_fetched)
def _keep_tested_token(sender, credential, grant, actor=None, **kwargs) -> None:
    services.token_store_tested(credential=credential, grant=grant, actor=actor)


@receiver(token_fetch_refused)
def _note_refused_test(sender, credential, decoded, **kwargs) -> None:
    services.token_note_tested_refusal(credential=credential, decoded=decoded)
