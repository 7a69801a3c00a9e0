"""The rate limiter chosen by measurement: Zhongkong's one limiter (apps/core/ratelimit.py,
one Redis round trip for all of a call's windows, nothing taken on a refusal) beside the
`limits` library's strategies on the same Redis, for the console's common case (two
windows, e.g. Feishu's 1000/min and 50/s), and the token API's hot-path ledger beside both.
Microseconds per call, median and p99, interleaved rounds.  `make bench`."""

from __future__ import annotations

import os
import statistics
import time
import uuid

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond, storage, strategies

from apps.core.ratelimit import Window, take
from apps.tokens import cache as token_cache

from .conftest import save

pytestmark = pytest.mark.django_db

BIG = 10**9  # never full: the cost of an allowed call is measured


def _measure(call, n: int) -> list[float]:
    for _ in range(100):
        call()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1e6)
    return out


def test_one_round_trip_limiter_against_the_limits_library():
    if not token_cache.on_redis():
        pytest.skip("needs the Redis cache")
    subject = uuid.uuid4().hex
    ours = (Window(BIG, 60), Window(BIG, 1))
    items = [RateLimitItemPerMinute(BIG), RateLimitItemPerSecond(BIG)]
    redis_url = os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/1")
    shared = storage.storage_from_string(redis_url)

    def lib(strategy, name):
        limiter = strategy(shared)

        def call():  # all windows must allow before any is taken (as the console needs)
            if all(limiter.test(item, name, subject) for item in items):
                for item in items:
                    limiter.hit(item, name, subject)

        return call

    ledger = token_cache.ledger()
    minute = int(time.time() // 60)
    candidates = {
        "zhongkong take() (2 windows)": lambda: take(f"bench:{subject}", ours),
        "limits fixed window": lib(strategies.FixedWindowRateLimiter, "fixed"),
        "limits moving window": lib(strategies.MovingWindowRateLimiter, "moving"),
        "limits sliding window counter": lib(strategies.SlidingWindowCounterRateLimiter, "slide"),
        "token API ledger (hot path)": lambda: (
            ledger.requests(1, minute),
            ledger.count(1, 1, minute),
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(3):  # interleaved rounds: a machine stall hits every candidate alike
        for name, call in candidates.items():
            samples[name] += _measure(call, 700)
    results = {}
    for name, values in samples.items():
        values.sort()
        results[name] = {
            "median_us": round(statistics.median(values), 1),
            "p99_us": round(values[int(len(values) * 0.99)], 1),
        }
        print(f"{name}: {results[name]}")
    save("rate_limit", results)
    ours_median = results["zhongkong take() (2 windows)"]["median_us"]
    assert all(
        ours_median <= r["median_us"] for n, r in results.items() if n.startswith("limits")
    ), results
