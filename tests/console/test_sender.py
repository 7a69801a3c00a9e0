"""The sender against the emulators' faults: a clear result within the deadline, bounded
memory, nothing followed; and the rate limiter at the documented limits."""

from __future__ import annotations

import time
import tracemalloc
from urllib.parse import urlsplit

import pytest

from apps.providers.registry import get_provider
from apps.providers.sender import send
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_app_register

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
