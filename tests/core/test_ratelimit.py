"""The one rate limiter (apps/core/ratelimit.py): the console's documented platform limits,
the token API's per-key window and the sandbox's emulated limits all count here."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from apps.core.ratelimit import take, window_key
from apps.providers.base import RateLimit
from apps.providers.registry import get_provider
from apps.tokens.cache import rate_key
from project.settings import EMBEDDED_CACHE

pytestmark = pytest.mark.django_db


def test_rate_limiter_holds_the_documented_limits():
    limits = get_provider("feishu_project").rate_limits("POST", "/open_api/demo/work_item/filter")
    assert limits == (RateLimit(15, 1), RateLimit(450, 60))
    waits = [take("p-token:filter", limits) for _ in range(40)]
    allowed = [w for w in waits if w == 0]
    assert 15 <= len(allowed) <= 30 and any(w > 0 for w in waits)
    assert all(0 < w <= 1 for w in waits if w)
    # Another token or another API has its own budget.
    assert take("p-other:filter", limits) == 0
    assert take("p-token:other", limits) == 0


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_a_refused_call_takes_nothing_from_any_window(backend, settings):
    if backend == "locmem":  # the embedded default's
        settings.CACHES = {"default": {**EMBEDDED_CACHE, "LOCATION": "rate-windows"}}
    # The day window comes first: a call the per-second window refuses must not use it up.
    limits = (RateLimit(5, 86400), RateLimit(2, 1))
    allowed = 0
    for round_ in range(4):
        waits = [take(f"t-{backend}", limits) for _ in range(6)]
        allowed += waits.count(0)
        assert any(w > 0 for w in waits)
        if round_ == 0:  # other entries come and go: none pushes a window out
            for n in range(400):
                cache.set(f"other:{n}", n)
        time.sleep(min(1.05, max(waits)))
    assert allowed == 5


def test_a_refusal_is_never_a_zero_wait(monkeypatch):
    """Refused 0.1 ms before its window ends, a call still waits (0 means "send")."""
    limits = (RateLimit(1, 1),)
    assert take("t-edge", limits, now=1_000_000.9999) == 0
    assert take("t-edge", limits, now=1_000_000.9999) > 0


def test_the_ledger_flushes_into_the_limiters_own_window():
    """The token API's hot path counts in its ledger; what it flushes lands in the window
    the limiter reads, so both paths hold one budget."""
    assert rate_key(7, 29_000_000) == window_key("api:7", 60, 29_000_000)


def test_an_unreachable_cache_lets_the_call_go(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert take("down", (RateLimit(1, 1),)) == 0
    assert take("down", (RateLimit(1, 1),)) == 0
