from __future__ import annotations

import pytest

from apps.core.models import Heartbeat
from apps.core.tasks import heartbeat

from .conftest import wait_for

pytestmark = pytest.mark.integration


def test_beat_and_worker_heartbeats_arrive_through_redis(celery_processes, client):
    procs, tmp_path = celery_processes
    # A task sent from here travels through the Redis broker to the worker process,
    # which writes into the test database.
    heartbeat.delay()
    seen = wait_for(
        lambda: set(Heartbeat.objects.values_list("name", flat=True)) >= {"worker", "beat"},
        timeout=45,
    )
    logs = "".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert seen, f"no heartbeats; celery said:\n{logs[-3000:]}"
    assert all(proc.poll() is None for proc in procs.values())
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["age_seconds"] < 60


def test_a_worker_proves_itself_without_beat_and_health_blames_beat_alone(celery, client):
    # Beat never started: the worker sends its own heartbeat through the broker, so the
    # health check names the part that is down (beat) and only that part.
    celery.start("worker")
    assert wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout=45), (
        celery.output()
    )
    answer = client.get("/healthz").json()
    assert answer["failing"] == ["beat"], answer
    assert answer["checks"]["worker"]["ok"] is True
