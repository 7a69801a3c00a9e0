from __future__ import annotations

import logging
import threading

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown

from .services import heartbeat_mark

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
_stop = threading.Event()


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Proves a worker consumes from the broker: a worker sends it, a worker runs it."""
    heartbeat_mark(name="worker")


@worker_ready.connect
def _send_heartbeats(**kwargs) -> None:
    """Each worker sends its own heartbeat task through the broker every HEARTBEAT_SECONDS,
    so that a dead beat is not taken for a dead worker (/healthz names beat alone)."""

    def run() -> None:
        while True:
            try:
                heartbeat.apply_async(expires=HEARTBEAT_SECONDS * 2)
            except Exception:  # the broker is away: /healthz names the broker
                logger.warning("could not send the worker heartbeat")
            if _stop.wait(HEARTBEAT_SECONDS):
                return

    _stop.clear()
    threading.Thread(target=run, name="zk-worker-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeats(**kwargs) -> None:
    _stop.set()
