"""Integration tests run against the real services: PostgreSQL, Redis and Celery processes.

Outside CI a missing service skips them with the reason; in CI a skip is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1",
                                       parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _require_services(request):
    if request.node.get_closest_marker("integration") is None:
        return
    if connection.vendor != "postgresql":
        pytest.skip("integration tests need DATABASE_URL to point at PostgreSQL")
    if not _reachable(settings.CELERY_BROKER_URL, 6379):
        pytest.skip("integration tests need Redis at CELERY_BROKER_URL")


def test_database_url() -> str:
    """URL of the test database pytest-django created (processes we start must use it)."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": test_database_url(),
                "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


@pytest.fixture
def celery_processes(transactional_db, tmp_path):
    """A real Celery worker and beat, on the Redis broker and the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    env = child_env(VAR_DIR=str(tmp_path))
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("worker", "beat")}  # noqa: SIM115
    commands = {
        "worker": [sys.executable, "-m", "celery", "-A", "project", "worker", "-l", "info",
                   "-P", "threads", "-c", "2", "-n", f"test-{os.getpid()}@%h", "--without-mingle",
                   "--without-gossip"],
        "beat": [sys.executable, "-m", "celery", "-A", "project", "beat", "-l", "info",
                 "-s", str(tmp_path / "beat-schedule")],
    }
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs[name],
                                    stderr=subprocess.STDOUT)
             for name, cmd in commands.items()}
    yield procs, tmp_path
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for log in logs.values():
        log.close()
    # Connections the children held are gone; the next flush must not wait on them.
    time.sleep(0.2)


def wait_for(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
