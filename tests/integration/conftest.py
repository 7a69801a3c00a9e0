"""Integration tests run against the real services: PostgreSQL, Redis and Celery processes.

Outside CI a missing service skips them with the reason; in CI a skip is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
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


REFERENCE_SERVERS = {
    "gunicorn sync": "gunicorn project.wsgi:application --bind 127.0.0.1:${PORT:-8000} "
    "--workers ${WEB_CONCURRENCY:-4}",
    "gunicorn gthread": "gunicorn project.wsgi:application --bind 127.0.0.1:${PORT:-8000} "
    "--workers ${WEB_CONCURRENCY:-4} --worker-class gthread --threads 8",
}


@contextlib.contextmanager
def procfile_web(port: int, *, server: str = "procfile", **env: str):
    """The Procfile's production web command (granian) on `port`, against the test
    database, with the benchmark settings and application (they add /bench/bare, the full
    middleware stack, and /bench/plain, none). `server`: one of REFERENCE_SERVERS instead,
    for the benchmarks' comparisons. Yields the server process and its command."""
    procfile = (ROOT / "Procfile").read_text().splitlines()
    web = next(line for line in procfile if line.startswith("web:"))[4:].strip()
    web = REFERENCE_SERVERS.get(server, web)
    web = web.replace("project.wsgi:application", "tests.benchmarks.wsgi:application")
    command = shlex.split(
        web.replace("${PORT:-8000}", str(port))
        .replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - replaced
        .replace("${WEB_CONCURRENCY:-4}", os.environ.get("WEB_CONCURRENCY", "4"))
        .replace("--access-log ", "")
    )
    server = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
            "DATABASE_URL": test_database_url(),
            "CONN_MAX_AGE": "600",
            "PYTHONPATH": str(ROOT),
            **env,
        },
    )
    try:
        for _ in range(100):
            try:
                if requests.get(f"http://127.0.0.1:{port}/bench/bare", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield server, command
    finally:
        server.terminate()
        server.wait(30)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": test_database_url(),
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


class CeleryProcesses:
    """Real worker and beat processes on the Redis broker and the test database."""

    def __init__(self, tmp_path: Path):
        self.tmp_path, self.procs, self.logs = tmp_path, {}, {}
        self.env: dict[str, str] = {}

    def start(self, name: str, **env: str) -> subprocess.Popen:
        kind = "beat" if name.startswith("beat") else "worker"
        procfile = (ROOT / "Procfile").read_text().splitlines()
        line = next(line for line in procfile if line.startswith(f"{kind}:"))
        line = line.partition(":")[2].replace("${CELERY_CONCURRENCY:-4}", "4")
        command = [sys.executable, "-m", *shlex.split(line)]  # the Procfile's, as deployed
        if kind == "worker":
            command += ["-n", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip"]
        else:
            command += ["-s", str(self.tmp_path / f"{name}-schedule")]
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(VAR_DIR=str(self.tmp_path), **{**self.env, **env}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.procs[name]

    def output(self) -> str:
        return "".join(p.read_text()[-3000:] for p in self.tmp_path.glob("*.log"))

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs.values():
            log.close()


@pytest.fixture
def celery(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # Start from an empty queue: tasks left by an earlier run must not leak in.
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    processes = CeleryProcesses(tmp_path)
    yield processes
    processes.stop()
    time.sleep(0.2)


@pytest.fixture
def celery_processes(celery):
    celery.start("worker")
    celery.start("beat")
    return celery.procs, celery.tmp_path


def wait_for(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def embedded(tmp_path: Path, **extra: str):
    """A fresh embedded-default instance (SQLite and a `.env` under `tmp_path`), migrated:
    (its environment, a `manage(*args) -> stdout` that fails the test on an error)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "VAR_DIR": str(tmp_path / "var"),
        "ENV_FILE": str(tmp_path / ".env"),
        **extra,
    }
    (tmp_path / "var").mkdir()

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    subprocess.run(
        [sys.executable, "-m", "apps.core.envfile", env["ENV_FILE"]],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    manage("migrate", "--no-input", "-v0")
    return env, manage


@pytest.fixture
def private_redis():
    from tests.helpers import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    import redis

    assert wait_for(lambda: _pong(redis, port), timeout=10, interval=0.1)
    yield port, server
    if server.poll() is None:
        server.kill()
    server.wait(10)


def _pong(redis, port):
    try:
        return redis.Redis(port=port).ping()
    except redis.ConnectionError:
        return False
