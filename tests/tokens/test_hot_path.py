"""The token API's hot path on the real Redis: the near cache stays exact, the hand-out
ledger loses no count (not even a SIGKILLed process's) and counts nothing twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from apps.tokens import cache as token_cache
from apps.tokens.ledger import Ledger
from apps.tokens.models import ClientKey
from apps.tokens.services import client_key_revoke
from tests.integration.conftest import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def _raw() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def test_the_near_cache_serves_from_memory_and_sees_every_change_at_once(
    token_credential, client_key
):
    credential, _ = token_credential()
    record, raw = client_key(credential)
    key_hash = ClientKey.hash(raw)
    near = token_cache.near_cache()
    token_cache.lookup(key_hash, credential.slug)  # from the database into Redis
    key, entry = token_cache.lookup(key_hash, credential.slug)  # from Redis into memory
    assert not key["revoked"] and entry["credential_id"] == credential.pk
    held = cache.make_key(f"zk:ck:{key_hash}")
    assert held in near._entries  # the next lookup does not ask Redis

    client_key_revoke(key=record, by=None)  # deletes the entry in Redis: Redis pushes
    key = token_cache.lookup(key_hash, credential.slug)[0]
    assert key["revoked"]

    token_cache.lookup(key_hash, credential.slug)
    token_cache.lookup(key_hash, credential.slug)
    assert held in near._entries
    _raw().set(held, cache._cache._serializer.dumps({**key, "name": "written elsewhere"}))
    # Another client's write arrives as a push over the tracking connection: within its
    # round trip (without tracking, the old entry would be served for its whole TTL).
    deadline = time.monotonic() + 1
    while (
        token_cache.lookup(key_hash, credential.slug)[0]["name"] != "written elsewhere"
        and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    assert token_cache.lookup(key_hash, credential.slug)[0]["name"] == "written elsewhere"

    _raw().flushdb()
    deadline = time.monotonic() + 2  # the push crosses the connection: allow for the trip
    while near._entries and time.monotonic() < deadline:
        near.get_many([])  # applies the pushes received
        time.sleep(0.01)
    assert near._entries == {}


def test_a_lost_connection_forgets_what_it_held(token_credential, client_key):
    credential, _ = token_credential()
    _, raw = client_key(credential)
    key_hash = ClientKey.hash(raw)
    token_cache.lookup(key_hash, credential.slug)
    key, _ = token_cache.lookup(key_hash, credential.slug)
    assert cache.make_key(f"zk:ck:{key_hash}") in token_cache.near_cache()._entries
    tracking = next(c["id"] for c in _raw().client_list() if "t" in c["flags"])
    _raw().client_kill_filter(_id=tracking)
    # Written while no one tracks: no push will ever say so.
    _raw().set(
        cache.make_key(f"zk:ck:{key_hash}"),
        cache._cache._serializer.dumps({**key, "name": "written while away"}),
    )
    key, _ = token_cache.lookup(key_hash, credential.slug)  # reconnects, reads afresh
    assert key["name"] == "written while away"


def _ledger(directory, **kwargs) -> Ledger:
    return Ledger(
        directory,
        client=lambda: _raw(),
        keys=lambda name, k, c, m: (
            f"t:mark:{name}:{k}:{c}:{m}",
            f"t:ho:{k}:{c}:{m}",
            f"t:rl:{k}:{m}",
        ),
        **kwargs,
    )


def test_a_flush_adds_each_count_once(tmp_path):
    _raw().flushdb()
    ledger = _ledger(tmp_path)
    for _ in range(5):
        ledger.count(1, 2, 100)
    ledger.count(1, 2, 100, by=-1)  # a request counted and taken back
    ledger.count(1, 3, 100)
    ledger.flush()
    assert int(_raw().get("t:ho:1:2:100")) == 4 and int(_raw().get("t:ho:1:3:100")) == 1
    assert int(_raw().get("t:rl:1:100")) == 5
    assert ledger.requests(1, 100) == 5 and ledger.requests(1, 101) == 0

    ledger._flushed = [0] * len(ledger._flushed)  # as if it died before noting the flush
    ledger._unflushed = {(1, 100): 5}
    ledger.flush()
    assert int(_raw().get("t:ho:1:2:100")) == 4 and int(_raw().get("t:rl:1:100")) == 5
    ledger.close()
    assert not list(tmp_path.glob("*.ledger"))  # flushed and gone


def test_a_count_is_kept_until_its_minute_is_in_the_database(tmp_path):
    """Redis restarted empty between a flush and the audit task's move: the ledger still
    holds the finished minute's slots, sends them again whole, and frees them only once the
    task marked the minute moved."""

    _raw().flushdb()
    ledger = _ledger(tmp_path, moved_key=lambda minute: f"t:moved:{minute}", resend_interval=0)
    for _ in range(3):
        ledger.count(1, 2, 100)
    ledger.flush()
    assert int(_raw().get("t:ho:1:2:100")) == 3
    _raw().flushdb()  # Redis restarted empty before the minute was moved
    ledger.flush()
    assert int(_raw().get("t:ho:1:2:100")) == 3  # back, whole
    ledger.flush()
    assert int(_raw().get("t:ho:1:2:100")) == 3  # and only once
    assert ledger._slots  # not durable yet: kept
    _raw().set("t:moved:100", 1)  # the audit task moved minute 100 into the database
    ledger.flush()
    assert not ledger._slots
    ledger.close()


CHILD = """
import os, signal, sys, time
import django
django.setup()
import redis
from pathlib import Path
from django.conf import settings
from apps.tokens import ledger as module
raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
# flush_interval: the thread never flushes, the counts exist only in the file
ledger = module.Ledger(Path(sys.argv[1]), client=lambda: raw, keys=lambda name, k, c, m: (
    f"t:mark:{name}:{k}:{c}:{m}", f"t:ho:{k}:{c}:{m}", f"t:rl:{k}:{m}"), flush_interval=3600)
for _ in range(7):
    ledger.count(1, 2, 100)
print("counted", flush=True)
time.sleep(60)
"""


def test_a_killed_process_s_counts_are_adopted_once(tmp_path):
    _raw().flushdb()
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(tmp_path)],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "counted"
        adopter = _ledger(tmp_path)
        assert adopter.adopt() == 0  # alive: its file is locked
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert adopter.adopt() == 1
        assert int(_raw().get("t:ho:1:2:100")) == 7 and int(_raw().get("t:rl:1:100")) == 7
        assert not list(tmp_path.glob("*.ledger")) and adopter.adopt() == 0
    finally:
        child.kill()
        child.wait()
