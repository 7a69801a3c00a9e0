from __future__ import annotations

import uuid

from django.db import models

from . import crypto


class Heartbeat(models.Model):
    """Last sign of life of a background part: `worker` (a task ran) or `beat` (a tick)."""

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Generation(models.Model):
    """A counter that moves, in the same transaction, with every change that takes access
    away (a client key revoked, a credential disabled, changed or deleted). Cached entries
    carry the value read before their row; one older than the current value is not used,
    so a revocation takes effect everywhere within a poll, whatever the shared cache did
    (apps/core/generation.py)."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class SecretHolder(models.Model):
    """What the vault keeps sealed: secret fields as ciphertext (apps/core/crypto.py) bound to the
    row's uid and the field name, a hint of each (its last four characters), and
    `secret_values()` as the only decryption. Credentials hold their app secrets this way,
    alert channels their webhook addresses and signing secrets; `rotate_keys` re-encrypts
    every model built on it. `hinted`: whether a hint is kept (not for a key a hint would
    shorten the search for)."""

    aad_prefix = ""
    hinted = True

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret_blobs = models.JSONField(default=dict, blank=True)
    secret_hints = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def aad(self, field: str) -> str:
        return f"{self.aad_prefix}:{self.uid}:{field}"

    def set_secret(self, field: str, value: str) -> None:
        self.secret_blobs[field] = crypto.encrypt(value, aad=self.aad(field))
        self.secret_hints[field] = value[-4:] if self.hinted and len(value) >= 12 else ""

    def secret_values(self) -> dict[str, str]:
        """Decrypted secrets by field name: what adapters and value-based redaction use."""
        return {
            field: crypto.decrypt(blob, aad=self.aad(field))
            for field, blob in self.secret_blobs.items()
        }
