"""Celery beat scheduler that records its own ticks, so /healthz can tell a live beat."""

from __future__ import annotations

import logging
import time

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)

MARK_EVERY = 10.0


class HeartbeatScheduler(PersistentScheduler):
    _last_mark = 0.0

    def tick(self, *args, **kwargs) -> float:
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._last_mark >= MARK_EVERY:
            self._last_mark = now
            try:
                from .services import heartbeat_mark

                heartbeat_mark(name="beat")
            except Exception:  # a database hiccup must not stop the schedule
                logger.exception("could not record the beat heartbeat")
        return min(interval, MARK_EVERY)
