from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from apps.core import crypto


@register(Tags.security)
def key_canary_check(app_configs=None, **kwargs) -> list[Error]:
    """Start-up fails clearly when the configured keys cannot decrypt what they must."""
    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="vault.E001")]
    from .models import KeyCanary

    try:
        canary = KeyCanary.objects.order_by("pk").first()
    except DatabaseError:  # not migrated yet
        return []
    if canary is None:
        return []
    try:
        crypto.decrypt(canary.ciphertext, aad="canary")
    except crypto.DecryptionError as exc:
        return [
            Error(
                f"FIELD_ENCRYPTION_KEYS cannot decrypt the key canary: {exc}",
                hint="Put back the key that encrypted the vault (keep old keys after the "
                "new one until `manage.py rotate_keys` has run).",
                id="vault.E002",
            )
        ]
    return []
