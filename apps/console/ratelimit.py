"""Keeps the console under each platform's documented limits, per token and API, across all
processes (the shared cache: Redis in production, process memory in the embedded default)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from apps.providers.base import RateLimit


def acquire(*, token: str, api: str, limits: tuple[RateLimit, ...]) -> float:
    """Take one call from every window; 0 when allowed, else seconds to wait (nothing taken
    from windows after the first that is full)."""
    subject = hashlib.sha256(f"{token}|{api}".encode()).hexdigest()[:24]
    now = time.time()
    for limit in limits:
        window = int(now // limit.per)
        key = f"zk:console:rl:{subject}:{limit.per}:{window}"
        cache.add(key, 0, int(limit.per) + 1)
        try:
            used = cache.incr(key)
        except ValueError:
            cache.set(key, 1, int(limit.per) + 1)
            used = 1
        if used > limit.limit:
            return round((window + 1) * limit.per - now, 3)
    return 0.0
