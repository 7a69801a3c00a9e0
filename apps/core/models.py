from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """Last sign of life of a background part: `worker` (a task ran) or `beat` (a tick)."""

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
