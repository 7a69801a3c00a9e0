from __future__ import annotations

from celery import shared_task

from .services import heartbeat_mark


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Proves a worker consumes from the broker: beat sends it, a worker runs it."""
    heartbeat_mark(name="worker")
