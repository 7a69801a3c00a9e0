from __future__ import annotations

from django.db import models


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
