"""Liveness of every part the product needs: database, cache, broker, worker and beat."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from apps.core.models import Heartbeat


@dataclass
class Check:
    ok: bool
    error: str = ""
    last_seen: str | None = None
    age_seconds: float | None = None


def _guard(probe) -> Check:
    try:
        probe()
    except Exception as exc:  # the class name only: messages can carry URLs with passwords
        return Check(False, error=type(exc).__name__)
    return Check(True)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key, token = "healthz-probe", uuid.uuid4().hex
    cache.set(key, token, 10)
    if cache.get(key) != token:
        raise RuntimeError("cache did not return what was stored")


def _broker() -> None:
    from project.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=3)


def _heartbeats() -> dict[str, datetime]:
    try:
        return dict(Heartbeat.objects.values_list("name", "at"))
    except Exception:
        return {}


def _heartbeat(seen: dict[str, datetime], name: str, now: datetime) -> Check:
    at = seen.get(name)
    if at is None:
        return Check(False, error="never seen")
    age = round((now - at).total_seconds(), 1)
    ok = age <= settings.HEALTH_MAX_HEARTBEAT_AGE
    return Check(ok, error="" if ok else "stale", last_seen=at.isoformat(), age_seconds=age)


def system_health() -> dict:
    now = timezone.now()
    checks = {
        "database": _guard(_database),
        "cache": _guard(_cache),
        "broker": _guard(_broker),
    }
    if checks["database"].ok:
        seen = _heartbeats()
        # A worker proves itself by running the heartbeat task it sent through the broker:
        # with the broker down nothing is known of it, and it is not blamed (the broker is).
        checks["worker"] = (
            _heartbeat(seen, "worker", now)
            if checks["broker"].ok
            else Check(True, error="unknown: the broker is down")
        )
        checks["beat"] = _heartbeat(seen, "beat", now)
    else:
        # Heartbeats are kept in the database: with it down nothing is known of the worker
        # and beat, so they are not blamed (the database is).
        checks["worker"] = Check(True, error="unknown: the database is down")
        checks["beat"] = Check(True, error="unknown: the database is down")
    failing = [name for name, check in checks.items() if not check.ok]
    return {
        "status": "ok" if not failing else "fail",
        "failing": failing,
        "checked_at": now.isoformat(),
        "checks": {name: asdict(check) for name, check in checks.items()},
    }
