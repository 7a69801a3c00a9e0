"""Celery beat that records its own ticks, so /healthz can tell a live beat.

Beat runs on two hosts: one schedules, the other stands by. On Redis (production) the
scheduler is celery-redbeat's: the schedule and each job's last run live in Redis, and the
beat holding its lock schedules while the other waits for the lock; a killed beat's lock
lapses after CELERY_BEAT_LOCK_SECONDS and the standby goes on from the shared last runs,
so each periodic job runs once per period across hosts. The embedded default (one host,
no Redis) keeps Celery's file-backed scheduler."""

from __future__ import annotations

import logging
import time

from celery.beat import PersistentScheduler
from redbeat import RedBeatScheduler

logger = logging.getLogger(__name__)

MARK_EVERY = 10.0


class HeartbeatMixin:
    """Marks the `beat` heartbeat at most every MARK_EVERY seconds of ticking."""

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


class HeartbeatScheduler(HeartbeatMixin, PersistentScheduler):
    lock_key = None  # no lock: one beat (the embedded default)


class HeartbeatRedBeatScheduler(HeartbeatMixin, RedBeatScheduler):
    pass
