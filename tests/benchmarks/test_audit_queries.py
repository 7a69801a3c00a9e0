"""Audit review at 1,000,000 events on PostgreSQL: the first filtered page and a trace-id
look-up, p95 over repeated runs, through the review page and through Django admin's
changelist for comparison.  `make bench` (AUDIT_BENCH_EVENTS to change the size)."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection
from django.db.models.fields.json import KT

from apps.audit.models import AuditEvent
from tests.audit_seed import seed_audit

from .conftest import page_p95, save

pytestmark = pytest.mark.django_db(transaction=True)
EVENTS = int(os.environ.get("AUDIT_BENCH_EVENTS", "1000000"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the target is for PostgreSQL")
def test_first_pages_at_a_million_events(client, make_user):
    started = time.perf_counter()
    seed_audit(EVENTS, batch=20_000)
    seeded_in = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    admin = make_user("bench-admin", "admin", is_staff=True, is_superuser=True)
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    middle = AuditEvent.objects.order_by("seq")[EVENTS // 2]
    traced = (
        AuditEvent.objects.alias(t=KT("details__trace_id"))
        .filter(seq__gt=EVENTS // 3)
        .exclude(t=None)
        .first()
    )
    day = middle.created_at.astimezone()
    start, end = day.strftime("%Y-%m-%dT00:00"), day.strftime("%Y-%m-%dT23:59")
    queries = {
        "actor": ("/audit/?actor=user07", "/djadmin/audit/auditevent/?q=user07"),
        "action": (
            "/audit/?family=credential",
            "/djadmin/audit/auditevent/?action__exact=credential.update",
        ),
        "credential": (
            "/audit/?credential=wechat-prod-2",
            "/djadmin/audit/auditevent/?q=wechat-prod-2",
        ),
        "time_range": (
            f"/audit/?start={start}&end={end}",
            f"/djadmin/audit/auditevent/?created_at__year={day.year}"
            f"&created_at__month={day.month}&created_at__day={day.day}",
        ),
        "trace_id": (
            f"/audit/?trace={traced.details['trace_id']}",
            f"/djadmin/audit/auditevent/?q={traced.details['trace_id']}",
        ),
    }
    results = {"events": AuditEvent.objects.count(), "seeded_in_s": round(seeded_in, 1)}
    for name, (ours, theirs) in queries.items():
        results[name] = {
            "review_page": page_p95(client, ours),
            "django_admin": page_p95(client, theirs),
        }
        print(
            f"\n{name:11s} review page p95 {results[name]['review_page']['p95_ms']:7.1f} ms"
            f" | django admin p95 {results[name]['django_admin']['p95_ms']:8.1f} ms"
        )
    save("audit_queries", results)
    for name in queries:
        assert results[name]["review_page"]["p95_ms"] < 100, (name, results[name])
