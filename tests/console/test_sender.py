"""The sender against the emulators' faults: a clear result within the deadline, bounded
memory, nothing followed; and the rate limiter at the documented limits."""

from __future__ import annotations

import time
import tracemalloc
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from apps.console import ratelimit
from apps.providers.base import RateLimit
from apps.providers.registry import get_provider
from apps.providers.sender import send
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_app_register
from project.settings import EMBEDDED_CACHE

pytestmark = pytest.mark.django_db(transaction=True)


LOOPBACK = ["127.0.0.1:*", "localhost:*"]


@pytest.fixture
def sandbox(live_server, settings):
    parts = urlsplit(live_server.url)
    settings.CONSOLE_INTERNAL_TARGETS = [f"{parts.hostname}:{parts.port}"]
    return live_server.url, {parts.hostname}


def _token_request(base):
    app, secret = sandbox_app_register(provider="feishu", app_id="console-app")
    return get_provider("feishu").token_request(
        f"{base}/sandbox/feishu", {"app_id": app.app_id, "app_secret": secret}
    )


def test_sends_to_the_sandbox(sandbox):
    base, hosts = sandbox
    sent = send(_token_request(base), allowed_hosts=hosts, internal=LOOPBACK)
    assert sent.status == 200 and b"tenant_access_token" in sent.body and not sent.error
    assert sent.elapsed_ms > 0


@pytest.mark.parametrize(
    "kind,value,check",
    [
        ("status", 503, lambda s: s.status == 503 and b"Bad Gateway" in s.body),
        ("html", 0, lambda s: s.status == 502 and s.body.startswith(b"<!DOCTYPE html>")),
        ("truncated", 0, lambda s: s.status == 200 and not s.body.endswith(b"}")),
        ("reset", 0, lambda s: s.error.startswith("connection") or s.body == b'{"partial": '),
        ("huge", 50, lambda s: s.truncated and len(s.body) == 2 * 1024 * 1024),
    ],
)
def test_faults_give_a_clear_bounded_result(sandbox, kind, value, check):
    base, hosts = sandbox
    request = _token_request(base)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind=kind, value=value, remaining=1
    )
    tracemalloc.start()
    started = time.monotonic()
    sent = send(request, allowed_hosts=hosts, internal=LOOPBACK)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert check(sent), sent.error or sent.body[:200]
    assert time.monotonic() - started < 20
    assert peak < 16 * 1024 * 1024


def test_a_slow_platform_hits_the_deadline(sandbox):
    base, hosts = sandbox
    request = _token_request(base)
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=2500, remaining=1
    )
    started = time.monotonic()
    sent = send(request, allowed_hosts=hosts, internal=LOOPBACK, deadline=0.5)
    assert sent.error.startswith("timeout") and time.monotonic() - started < 2
    time.sleep(2.2)  # let the emulator finish the abandoned request inside this test


def test_rate_limiter_holds_the_documented_limits():
    limits = get_provider("feishu_project").rate_limits("POST", "/open_api/demo/work_item/filter")
    assert limits == (RateLimit(15, 1), RateLimit(450, 60))
    waits = [ratelimit.acquire(token="p-token", api="filter", limits=limits) for _ in range(40)]
    allowed = [w for w in waits if w == 0]
    assert 15 <= len(allowed) <= 30 and any(w > 0 for w in waits)
    assert all(0 < w <= 1 for w in waits if w)
    # Another token or another API has its own budget.
    assert ratelimit.acquire(token="p-other", api="filter", limits=limits) == 0
    assert ratelimit.acquire(token="p-token", api="other", limits=limits) == 0


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_a_refused_call_takes_nothing_from_any_window(backend, settings):
    if backend == "locmem":  # the embedded default's
        settings.CACHES = {"default": {**EMBEDDED_CACHE, "LOCATION": "rate-windows"}}
    # The day window comes first: a call the per-second window refuses must not use it up.
    limits = (RateLimit(5, 86400), RateLimit(2, 1))
    allowed = 0
    for round_ in range(4):
        waits = [ratelimit.acquire(token=f"t-{backend}", api="a", limits=limits) for _ in range(6)]
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
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_000.9999)
    assert ratelimit.acquire(token="t-edge", api="a", limits=limits) == 0
    assert ratelimit.acquire(token="t-edge", api="a", limits=limits) > 0
