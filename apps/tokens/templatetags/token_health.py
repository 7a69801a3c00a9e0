"""{{ credential|token_status }}: the token health of a credential (tokens/health.py), for
pages outside the token centre (the credential list)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from apps.tokens.health import Health, token_health

register = template.Library()


@register.filter
def token_status(credential) -> Health | None:
    """None for a credential that uses no token."""
    if not credential.platform.uses_token_for(credential.public_values):
        return None
    try:
        token = credential.access_token
    except credential.__class__.access_token.RelatedObjectDoesNotExist:
        token = None
    return token_health(credential, token, timezone.now())
