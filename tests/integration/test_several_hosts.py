"""The rehearsal of DESIGN.md's production: two web, two worker and two beat processes on
one PostgreSQL and Redis. The active beat is killed: the standby schedules within a minute,
no token expires, each periodic job runs once per period; then one worker and one web die
and the others serve."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time

import pytest
import requests
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.tokens.services import client_key_create, token_current
from tests.helpers import free_port

from .conftest import procfile_web, wait_for
from .test_token_centre import _credential

pytestmark = pytest.mark.integration

SENT = re.compile(r"Sending due task tokens-scan-due")


def _sends(celery, name: str) -> int:
    return len(SENT.findall((celery.tmp_path / f"{name}.log").read_text()))


class Watcher:
    """A business server asking both web processes for the token, four times a second."""

    def __init__(self, urls: list[str], key: str):
        self.urls, self.key = urls, key
        self.answers: list[tuple[float, str, int, dict]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session, n = requests.Session(), 0
        while not self.stopped.is_set():
            url = self.urls[n % len(self.urls)]
            n += 1
            try:
                answer = session.get(
                    url, headers={"Authorization": f"Bearer {self.key}"}, timeout=10
                )
                body = answer.json() if answer.status_code == 200 else {}
                self.answers.append((time.monotonic(), url, answer.status_code, body))
            except requests.RequestException as exc:
                self.answers.append((time.monotonic(), url, 0, {"error": str(exc)}))
            time.sleep(0.25)

    def since(self, moment: float, url: str | None = None):
        return [a for a in self.answers if a[0] >= moment and (url is None or a[1] == url)]


def _kill_host(server) -> None:
    """SIGKILL a granian server and its worker processes, as a host that dies."""
    subprocess.run(["pkill", "-KILL", "-P", str(server.pid)], check=False)
    server.send_signal(signal.SIGKILL)
    server.wait(10)


def test_two_of_each_one_of_each_killed(live_server, celery):
    celery.env = {
        "TOKEN_SCAN_INTERVAL": "2",
        "CELERY_BEAT_LOCK_SECONDS": "6",
        "CELERY_BEAT_MAX_LOOP_INTERVAL": "2",
    }
    # Tokens of 40 s: the schedule must renew one every half minute or so.
    credential, _ = _credential(live_server, slug="fs-hosts", token_lifetime=40, reissue_window=40)
    _, key = client_key_create(name="biz", credentials=[credential])
    token_current(credential=credential)
    for name in ("worker1", "worker2", "beat1"):
        celery.start(name)
    assert wait_for(lambda: "Acquired lock" in celery.output(), timeout=60), celery.output()
    celery.start("beat2")  # the standby: waits for the lock
    # Renewals come from the schedule alone; one process per web host.
    web_env = {"TOKEN_MIN_HANDOUT_LIFE": "0", "WEB_CONCURRENCY": "1"}
    with (
        procfile_web(free_port(), **web_env) as (web1, c1),
        procfile_web(free_port(), **web_env) as (web2, c2),
    ):
        urls = [
            f"http://127.0.0.1:{c[c.index('--port') + 1]}/api/v1/tokens/fs-hosts" for c in (c1, c2)
        ]
        watcher = Watcher(urls, key)
        watcher.thread.start()
        try:
            started, before = time.monotonic(), _sends(celery, "beat1")
            time.sleep(12)
            # One beat schedules, the other stands by: the scan runs once per period (2 s),
            # counted over these 12 s alone (beat1 ran while the web servers started).
            assert _sends(celery, "beat2") == 0, celery.output()
            assert 3 <= _sends(celery, "beat1") - before <= 12 / 2 + 2, celery.output()
            celery.procs["beat1"].send_signal(signal.SIGKILL)  # its lock is not released
            killed = time.monotonic()
            assert wait_for(lambda: _sends(celery, "beat2") > 0, timeout=60), celery.output()
            took_over = time.monotonic() - killed
            assert took_over < 60
            # Past a token's whole life under the standby: renewed by the schedule.
            renewed_after = timezone.now()
            assert wait_for(
                lambda: AuditEvent.objects.filter(
                    action="token.refresh",
                    outcome="success",
                    target_id="fs-hosts",
                    created_at__gt=renewed_after,
                    details__reason="scheduled",
                ).exists(),
                timeout=45,
            ), celery.output()
            standby_since = time.monotonic()
            time.sleep(8)
            assert _sends(celery, "beat2") <= (time.monotonic() - killed - took_over) / 2 + 3

            # One worker and one web process die; the others go on.
            celery.procs["worker1"].send_signal(signal.SIGKILL)
            _kill_host(web1)
            lost = time.monotonic()
            renewed_after = timezone.now()
            assert wait_for(
                lambda: AuditEvent.objects.filter(
                    action="token.refresh",
                    outcome="success",
                    target_id="fs-hosts",
                    created_at__gt=renewed_after,
                    details__reason="scheduled",
                ).exists(),
                timeout=45,
            ), celery.output()
            # The business server sees the renewed token within its next few asks.
            assert wait_for(
                lambda: len({a[3]["version"] for a in watcher.answers if a[2] == 200}) >= 3,
                timeout=10,
            )
        finally:
            watcher.stopped.set()
            watcher.thread.join(15)
    # The business server was never handed an expired token, and the surviving web process
    # answered every request throughout.
    served = [a for a in watcher.answers if a[2] == 200]
    assert served and all(a[3]["expires_in"] > 0 for a in served)
    assert all(a[2] == 200 for a in watcher.since(started, urls[1]))
    assert {a[2] for a in watcher.since(started, urls[0]) if a[0] < lost - 1} == {200}
    assert len({a[3]["version"] for a in served}) >= 3
    assert standby_since > killed
