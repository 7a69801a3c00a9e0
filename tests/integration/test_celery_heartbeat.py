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
