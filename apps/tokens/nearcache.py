"""The token API's entries on Redis, served from process memory and kept exact.

Entries (the client key's and the token's, see cache.py) are read once per process over one
connection that speaks RESP3 with CLIENT TRACKING on: Redis remembers which keys it read and
pushes an invalidation on this same connection when one of them is written, deleted,
expires or the database is flushed. Each lookup first applies the pushes received so far,
so a revoked key or a new token is seen by the next request that starts after Redis sent
the push; replies and pushes come in order on one connection, so a value read cannot
outlive an invalidation sent after it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from redis.exceptions import ConnectionError


class NearCache:
    def __init__(self, connect: Callable[[], object], loads: Callable[[bytes], object]):
        self._connect = connect  # makes an unconnected redis-py Connection (RESP3)
        self._loads = loads  # the cache's deserializer
        self._conn = None
        self._pid = 0
        self._lock = threading.Lock()
        self._entries: dict[str, object] = {}

    # -- connection -------------------------------------------------------------------------
    def _connection(self):
        if self._conn is None or self._pid != os.getpid():  # first use, or a forked worker
            conn = self._connect()
            conn.register_connect_callback(self._on_connect)
            conn.connect()
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _on_connect(self, conn) -> None:
        """(Re)connected: nothing read before is tracked any more."""
        self._entries.clear()
        conn._parser.set_invalidation_push_handler(self._invalidate)
        conn.send_command("CLIENT", "TRACKING", "ON")
        conn.read_response()

    def _invalidate(self, push) -> None:
        keys = push[1]
        if keys is None:  # FLUSHDB / FLUSHALL
            self._entries.clear()
            return
        for key in keys:
            self._entries.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _catch_up(self, conn) -> None:
        """Apply every invalidation received so far (the parser calls _invalidate)."""
        while conn.can_read(timeout=0):
            conn.read_response(push_request=True)

    # -- entries ----------------------------------------------------------------------------
    def forget(self, key: str) -> None:
        """This process changed the key itself: drop it now, without waiting for Redis's
        push to come back over the tracking connection."""
        with self._lock:
            self._entries.pop(key, None)

    def get_many(self, keys: list[str]) -> list[object | None]:
        """The cache's values for `keys` (None when absent), as shared read-only objects."""
        with self._lock:
            try:
                return self._get_many(keys)
            except ConnectionError:  # pushes may be lost: forget all, reconnect, once more
                self._conn.disconnect()
                self._entries.clear()
                return self._get_many(keys)

    def _get_many(self, keys: list[str]) -> list[object | None]:
        conn = self._connection()
        self._catch_up(conn)
        missing = [k for k in keys if k not in self._entries]
        if missing:
            conn.send_command("MGET", *missing)
            for key, value in zip(missing, conn.read_response(), strict=True):
                if value is not None:
                    self._entries[key] = self._loads(value)
        return [self._entries.get(k) for k in keys]
