from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Heartbeat

pytestmark = pytest.mark.django_db


def _beat(name: str, age_seconds: float) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": timezone.now() - timedelta(seconds=age_seconds)}
    )


def test_healthy_when_every_part_answers_and_heartbeats_are_fresh(client):
    _beat("worker", 5)
    _beat("beat", 2)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert {"database", "cache", "broker", "worker", "beat"} <= body["checks"].keys()
    assert 4 <= body["checks"]["worker"]["age_seconds"] < 60
    assert response["Cache-Control"].startswith("max-age=0")


def test_missing_heartbeats_answer_503_naming_worker_and_beat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker", "beat"]
    assert body["checks"]["worker"]["error"] == "never seen"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_stale_worker_is_named(client, settings):
    settings.HEALTH_MAX_HEARTBEAT_AGE = 60
    _beat("worker", 300)
    _beat("beat", 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response.json()["checks"]["worker"]["error"] == "stale"


def test_unreachable_broker_is_named_without_leaking_its_url(client, settings):
    _beat("worker", 1)
    _beat("beat", 1)
    settings.CELERY_BROKER_URL = "redis://:hunter2-broker@127.0.0.1:9/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert b"hunter2-broker" not in response.content


def test_a_database_outage_blames_the_database_not_the_worker_or_beat(client, monkeypatch):
    from django.db import OperationalError

    from apps.home import health

    _beat("worker", 1)
    _beat("beat", 1)

    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "unknown" in response.json()["checks"]["worker"]["error"]
