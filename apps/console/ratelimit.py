"""Keeps the console under each platform's documented limits, per token and API, across all
processes (the shared cache: Redis in production, process memory in the embedded default)."""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache

from apps.providers.base import RateLimit
from apps.tokens.cache import on_redis, redis_client

logger = logging.getLogger(__name__)


def acquire(*, token: str, api: str, limits: tuple[RateLimit, ...]) -> float:
    """Take one call from every window; 0 when allowed, else seconds to wait (and nothing is
    taken from any window)."""
    subject = hashlib.sha256(f"{token}|{api}".encode()).hexdigest()[:24]
    now = time.time()
    windows = [(limit, int(now // limit.per)) for limit in limits]
    keys = [f"zk:console:rl:{subject}:{limit.per}:{window}" for limit, window in windows]
    try:
        used = _count(keys, [int(limit.per) + 1 for limit, _ in windows])
    except Exception:  # the shared cache is down: send, and let the platform's limit speak
        logger.warning("the cache is unreachable; console rate windows not counted")
        return 0.0
    full = [
        (limit, window) for (limit, window), n in zip(windows, used, strict=True) if n > limit.limit
    ]
    if not full:
        return 0.0
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:  # the window just expired: nothing to give back
            pass
    # Never 0, which means "send": a refusal in a window's last half millisecond still waits.
    return max(0.001, round(max((window + 1) * limit.per - now for limit, window in full), 3))


def _count(keys: list[str], ttls: list[int]) -> list[int]:
    """Increment every window's counter: one round trip on Redis."""
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
