from __future__ import annotations

from django.utils import timezone

from .models import Heartbeat


def heartbeat_mark(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
