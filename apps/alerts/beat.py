"""The beat scheduler that also watches the worker: when the worker's heartbeat goes
silent, beat (still running) sends the alert itself, since no worker would."""

from __future__ import annotations

import threading
import time

from django.conf import settings

from apps.core.beat import HeartbeatRedBeatScheduler, HeartbeatScheduler


class WatchingMixin:
    _last_watch = 0.0
    _watcher: threading.Thread | None = None

    def tick(self, *args, **kwargs) -> float:
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        busy = self._watcher is not None and self._watcher.is_alive()
        if now - self._last_watch >= settings.ALERT_EVALUATE_SECONDS and not busy:
            from .tasks import watch

            self._last_watch = now
            self._watcher = threading.Thread(
                target=watch, args=("beat",), name="alerts-watch-worker", daemon=True
            )
            self._watcher.start()
        return interval


class WatchingScheduler(WatchingMixin, HeartbeatScheduler):
    """One beat, its schedule in a local file (the embedded default)."""


class WatchingRedBeatScheduler(WatchingMixin, HeartbeatRedBeatScheduler):
    """Beat on several hosts, one active at a time (production on Redis)."""
