"""The one rate limiter: fixed windows counted in the shared cache (Redis in production, one
round trip for all of a call's windows; process memory in the embedded default). A call
takes one from every window it names or, when any of them is full, takes nothing and learns
how many seconds to wait.

Used by the console (each platform's documented limits per token and API), the token API
(a client key's requests a minute; its hot path counts in the ledger, which flushes into the
same windows: `window_key`) and the sandbox's emulated platform limits. Chosen over the
`limits` library by measurement (tests/benchmarks/test_rate_limit.py, README): `limits`
makes a round trip per window and counts a refused call, so two windows cost two to four
round trips and a refund; this takes one."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)


class Limit(Protocol):
    limit: int
    per: float


class Window(NamedTuple):
    """`limit` calls per `per` seconds."""

    limit: int
    per: float


def window_key(name: str, per: float, index: int) -> str:
    """The cache key counting window `index` (time // per) of limit `name`."""
    return f"zk:rl:{name}:{math.ceil(per)}:{index}"


def take(name: str, limits: Iterable[Limit], *, now: float | None = None) -> float:
    """0.0 when the call may go (one is taken from each window), else the seconds until the
    fullest window resets (nothing taken). With the cache unreachable the call goes,
    uncounted: the platform's own limit or the next window still speaks."""
    now = time.time() if now is None else now
    windows = [(limit, int(now // limit.per)) for limit in limits]
    keys = [window_key(name, limit.per, index) for limit, index in windows]
    try:
        used = _count(keys, [math.ceil(limit.per) + 1 for limit, _ in windows])
    except Exception:
        logger.warning("the cache is unreachable; rate windows of %s not counted", name)
        return 0.0
    full = [
        (limit, index) for (limit, index), n in zip(windows, used, strict=True) if n > limit.limit
    ]
    if not full:
        return 0.0
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:  # the window just expired: nothing to give back
            pass
    # Never 0, which means "go": a refusal in a window's last half millisecond still waits.
    return max(0.001, round(max((index + 1) * limit.per - now for limit, index in full), 3))


def _count(keys: list[str], ttls: list[int]) -> list[int]:
    """Add one to every window's counter: one round trip on Redis."""
    if not keys:
        return []
    if on_redis():
        names = [cache.make_and_validate_key(key) for key in keys]
        with redis_client().pipeline(transaction=False) as pipe:
            for name, ttl in zip(names, ttls, strict=True):
                pipe.incr(name)
                pipe.expire(name, ttl)
            return [int(n) for n in pipe.execute()[::2]]
    counts = []
    for key, ttl in zip(keys, ttls, strict=True):
        cache.add(key, 0, ttl)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, ttl)
            counts.append(1)
    return counts


def redis_client():
    """The cache's Redis client (primary), made once per cache backend: Django builds a new
    client object per call, which costs more than the round trip on the hot path."""
    backend = cache._cache
    client = getattr(backend, "_zk_client", None)
    if client is None:
        client = backend._zk_client = backend.get_client(None, write=True)
    return client


def on_redis() -> bool:
    """Whether the cache is Django's Redis backend (pipelines, the ledger, the near cache)."""
    return isinstance(caches["default"], RedisCache)
