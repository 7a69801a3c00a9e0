"""Console history at 100,000 sends on PostgreSQL: first pages and a deep page, p95 over
repeated runs, for a developer (their own sends) and an admin (everyone's), with each
filter. `make bench` (CONSOLE_BENCH_CALLS to change the size)."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.console.models import ConsoleCall
from apps.vault.services import credential_create

from .conftest import page_p95, save

pytestmark = pytest.mark.django_db(transaction=True)
CALLS = int(os.environ.get("CONSOLE_BENCH_CALLS", "100000"))
PROVIDERS = ["feishu", "feishu_project", "wechat", "wecom", "dingtalk", "flashduty"]
CODES = ["99992402", "99991663", "40001", "10211", "4001", "500"]


def _seed(users, credentials) -> None:
    rng = random.Random(7)
    start = timezone.now() - timedelta(days=90)
    batch = []
    for n in range(CALLS):
        credential = rng.choice(credentials)
        ok = rng.random() < 0.8
        batch.append(
            ConsoleCall(
                user=rng.choice(users),
                credential=credential,
                method="POST",
                url=f"https://example.invalid/{credential.provider}/api/{n % 50}",
                request_headers={"Authorization": "Bearer «redacted»"},
                request_body='{"page_size": 20}',
                status=200 if ok else 400,
                response_body='{"code": 0, "msg": "success", "data": {"items": []}}',
                elapsed_ms=rng.uniform(5, 300),
                ok=ok,
                code="0" if ok else rng.choice(CODES),
                trace_id=f"trace-{n:08d}",
                trace_source="header",
                request_spec={
                    "method": "POST",
                    "path": f"/api/{n % 50}",
                    "query": [],
                    "headers": [],
                    "body": None,
                },
            )
        )
        if len(batch) == 5000:
            ConsoleCall.objects.bulk_create(batch)
            batch = []
    ConsoleCall.objects.bulk_create(batch)
    ConsoleCall.objects.update(created_at=start)  # auto_now_add: one date is enough here
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ConsoleCall._meta.db_table}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the target is for PostgreSQL")
def test_history_pages_at_a_hundred_thousand_sends(client, make_user):
    admin = make_user("bench-admin", "admin")
    developers = [make_user(f"dev{i:02d}", "developer") for i in range(10)]
    credentials = [
        credential_create(
            by=None,
            provider=p,
            name=f"{p} {i}",
            slug=f"{p}-{i}",
            environment="prod",
            public={},
            secrets={},
            shared_with_developers=True,
        )
        for i, p in enumerate(PROVIDERS * 2)
    ]
    started = time.perf_counter()
    _seed([admin, *developers], credentials)
    seeded_in = time.perf_counter() - started
    middle = ConsoleCall.objects.order_by("id")[CALLS // 2].id
    rare = ConsoleCall.objects.filter(ok=False).order_by("id")[10]
    queries = {
        "own_first_page": "",
        "own_deep_page": f"before={middle}",
        "credential": f"credential={credentials[3].slug}",
        "platform": "platform=wechat",
        "failed": "outcome=failed",
        "code": f"code={rare.code}",
        "trace_id": f"trace={rare.trace_id}",
    }
    results = {"calls": ConsoleCall.objects.count(), "seeded_in_s": round(seeded_in, 1)}
    for role, user in (("developer", developers[0]), ("admin", admin)):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for name, query in queries.items():
            results[f"{role}.{name}"] = page_p95(client, f"/console/history/?{query}")
            print(
                f"\n{role:9s} {name:15s} p95 {results[f'{role}.{name}']['p95_ms']:6.1f} ms", end=""
            )
    save("console_history", results)
    slow = {k: v for k, v in results.items() if isinstance(v, dict) and v["p95_ms"] >= 100}
    assert not slow, slow
