"""The access generation (models.Generation): moved by every change that takes access away,
read by every process from the database at least every GENERATION_POLL_SECONDS.

Caches that answer without the database (the token API's entries in Redis and in process
memory) stamp each entry with the generation read before its row and drop an entry older
than the current one. The value is polled by a daemon thread of each process, so the hot
path reads a number in memory and never waits for the database; a process that itself moved
the generation sees it at once. With the database away nothing can be revoked, and the last
value read stands."""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F

from .models import Generation

logger = logging.getLogger(__name__)

ACCESS = "access"


def read(name: str = ACCESS) -> int:
    """The generation as the database holds it now."""
    return Generation.objects.filter(name=name).values_list("value", flat=True).first() or 0


def advance(name: str = ACCESS) -> None:
    """Move the generation in the caller's transaction (it commits with the change); this
    process sees the new value once it commits."""
    if not Generation.objects.filter(name=name).update(value=F("value") + 1):
        Generation.objects.get_or_create(name=name)
        Generation.objects.filter(name=name).update(value=F("value") + 1)
    transaction.on_commit(lambda: _WATCHER.set(read(name)))


class _Watcher:
    """This process's view of the access generation, refreshed by a daemon thread."""

    def __init__(self):
        self.value = 0
        self._pid = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def set(self, value: int) -> None:
        # The database's word, as read: a poll that read just before a commit may set the
        # older value back, for one poll interval at most.
        self.value = value

    def stop(self) -> None:
        """Stop polling (a test session ending before its database is dropped)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def current(self) -> int:
        if self._pid != os.getpid():  # first use in this process (or a forked child)
            self._start()
        return self.value

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            try:
                self.value = read()
            except Exception:
                logger.warning("the access generation could not be read; polling goes on")
            finally:
                # This thread's connection, perhaps opened for this read only; never one
                # the caller is in a transaction on.
                if not connection.in_atomic_block:
                    connection.close()
            self._thread = threading.Thread(target=self._poll, name="zk-generation", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._stopped.wait(settings.GENERATION_POLL_SECONDS):
            try:
                self.set(read())
            except Exception:  # the database is away: nothing can be revoked meanwhile
                logger.warning("the access generation could not be read; the last value stands")
            # A connection per poll: a restarted database or a test database being dropped
            # never finds this thread holding one. Closing may fail as reading did; the
            # thread must outlive both, or the last value would stand for good.
            try:
                close_old_connections()
                connection.close()
            except Exception:
                logger.debug("closing the generation poller's connection failed", exc_info=True)


_WATCHER = _Watcher()


def current() -> int:
    """The access generation as this process last saw it (no I/O on the hot path)."""
    return _WATCHER.current()
