"""A revoked key is refused everywhere within a second of the commit, whatever the shared
cache does: two web processes (the Procfile's granian) on a Redis of their own."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
import requests
from django.core.cache import caches

from apps.tokens.models import ClientKey
from apps.tokens.services import client_key_revoke, token_current
from tests.helpers import free_port

from .conftest import ROOT, child_env, procfile_web

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _served_by_both(url: str, headers: dict) -> None:
    """Enough requests that both web processes hold the key's entry in memory."""
    statuses = {requests.get(url, headers=headers, timeout=10).status_code for _ in range(40)}
    assert statuses == {200}, statuses


def _watch(url: str, headers: dict, seconds: float):
    """(sent, answered, status) of requests sent back to back for `seconds`, from 4 threads."""
    seen: list[tuple[float, float, int]] = []
    stop = time.monotonic() + seconds

    def run():
        session = requests.Session()
        while time.monotonic() < stop:
            sent = time.monotonic()
            status = session.get(url, headers=headers, timeout=20).status_code
            seen.append((sent, time.monotonic(), status))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    return seen, threads


def test_an_entry_written_back_after_the_revoke_is_not_believed(
    live_server,
    token_credential,
    client_key,
    private_redis,
    tmp_path,
):
    """The race of a cache entry expiring while a revoke commits: a reader that read the key
    from the database just before the revoke writes its (valid) entry back just after the
    revoke deleted it. The entry carries the access generation it was read under; every
    process stops believing it once it sees the generation the revoke moved."""
    port, _ = private_redis
    credential, _ = token_credential(slug="fs-race")
    record, key = client_key(credential)
    token_current(credential=credential)
    env = {
        "CACHE_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1",
        "TOKEN_LEDGER_DIR": str(tmp_path / "ledger"),
        "WEB_CONCURRENCY": "2",
        "TOKEN_API_RATE_LIMIT": "1000000",
    }
    with procfile_web(free_port(), **env) as (server, command):
        url = f"http://127.0.0.1:{command[command.index('--port') + 1]}/api/v1/tokens/fs-race"
        headers = {"Authorization": f"Bearer {key}"}
        _served_by_both(url, headers)
        raw = redis.Redis(port=port)
        backend = caches["default"]
        held = backend.make_key(f"zk:ck:{ClientKey.hash(key)}")
        stale = raw.get(held)  # the valid entry both processes hold, as a reader had it
        assert stale is not None
        client_key_revoke(key=record, by=None)
        committed = time.monotonic()
        raw.set(held, stale, ex=60)  # written back after the revoke's delete
        time.sleep(1.0)
        late = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(40)]
        assert late == [401] * 40
        assert time.monotonic() - committed < 5


def test_a_revoke_while_redis_is_frozen_is_refused_within_a_second(
    live_server,
    token_credential,
    client_key,
    private_redis,
    tmp_path,
):
    port, redis_server = private_redis
    credential, _ = token_credential(slug="fs-frozen")
    record, key = client_key(credential)
    token_current(credential=credential)
    env = {
        "CACHE_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1",
        "TOKEN_LEDGER_DIR": str(tmp_path / "ledger"),
        "WEB_CONCURRENCY": "2",
        "TOKEN_API_RATE_LIMIT": "1000000",
    }
    with procfile_web(free_port(), **env) as (server, command):
        url = f"http://127.0.0.1:{command[command.index('--port') + 1]}/api/v1/tokens/fs-frozen"
        headers = {"Authorization": f"Bearer {key}"}
        _served_by_both(url, headers)
        redis_server.send_signal(signal.SIGSTOP)  # frozen: connections open, no answers
        try:
            seen, threads = _watch(url, headers, seconds=7.0)
            time.sleep(1.5)
            # The operator's command, on the same frozen Redis: the database commits at once,
            # the cache delete that follows fails after the socket timeout.
            revoke = subprocess.Popen(
                [sys.executable, "manage.py", "client_key", "revoke", "--id", str(record.pk)],
                cwd=ROOT,
                env=child_env(**env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            committed = _when_committed(record.pk)
            _, errors = revoke.communicate(timeout=60)
            assert revoke.returncode == 0, errors
            for thread in threads:
                thread.join(30)
        finally:
            redis_server.send_signal(signal.SIGCONT)
        before = [status for sent, _, status in seen if sent < committed - 0.2]
        assert before and set(before) == {200}  # served from memory while Redis was frozen
        after = [(sent - committed, status) for sent, _, status in seen if sent > committed + 1.0]
        assert len(after) > 10 and {status for _, status in after} == {401}, after[:5]


def _when_committed(pk: int) -> float:
    """The moment (monotonic) the revoke is visible in the database, polled every 10 ms."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ClientKey.objects.filter(pk=pk, revoked_at__isnull=False).exists():
            return time.monotonic()
        time.sleep(0.01)
    raise AssertionError("the revoke never committed")
