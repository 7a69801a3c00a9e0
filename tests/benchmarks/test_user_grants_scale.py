"""Users' grants at a company's scale: 10,000 connected people and 1,000 app credentials on
one PostgreSQL. Measures the refresh work per hour (CPU seconds and database queries per
refresh, the beat's scan), that the scan reads what is due and not every grant, the pages
that list grants or credentials (p95; their queries do not grow with the rows:
tests/test_list_queries.py), and the token API's
hand-out of a user token against an app token's on the shipped server. `make bench`
(GRANT_BENCH_GRANTS / GRANT_BENCH_CREDENTIALS to change the size)."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.services import Actor
from apps.tokens import grants
from apps.tokens.models import UserGrant
from apps.tokens.services import client_key_create, token_current
from apps.tokens.tasks import scan_grants
from apps.vault.models import Credential
from apps.vault.services import credential_create
from tests.helpers import feishu_sandbox_credential, free_port
from tests.integration.conftest import procfile_web

from .conftest import page_p95, save, wrk

pytestmark = pytest.mark.django_db(transaction=True)
GRANTS = int(os.environ.get("GRANT_BENCH_GRANTS", "10000"))
CREDENTIALS = int(os.environ.get("GRANT_BENCH_CREDENTIALS", "1000"))
REFRESHES = 200  # measured against the emulated platform, then scaled to an hour


def _credentials(n: int) -> list[Credential]:
    """`n` credentials as the vault makes them (sealed secrets, audited), across platforms."""
    providers = ["feishu", "dingtalk", "wecom", "wechat", "feishu_project", "flashduty"]
    made = []
    for i in range(n):
        provider = providers[i % len(providers)]
        made.append(
            credential_create(
                by=None,
                provider=provider,
                name=f"{provider} app {i:04d}",
                slug=f"{provider.replace('_', '-')}-{i:04d}",
                environment="prod",
                public={},
                secrets={},
                shared_with_developers=True,
            )
        )
    return made


def _grants(credential: Credential, n: int) -> None:
    """`n` connected users with sealed tokens, their refreshes spread over two hours as the
    planner spreads them."""
    rng = random.Random(11)
    now = timezone.now()
    rows = []
    for i in range(n):
        row = UserGrant(credential=credential, user_id=f"ou_{i:032x}", name=f"用户{i:05d}")
        obtained = now - timedelta(seconds=rng.uniform(0, 6600))
        row.access_blob = row.seal_access(f"u-bench-access-{i:08d}")
        row.refresh_blob = row.seal_refresh(f"ur-bench-refresh-{i:08d}")
        row.fingerprint, row.version, row.scopes = f"{i:016x}", 1, "offline_access"
        row.obtained_at, row.expires_at = obtained, obtained + timedelta(seconds=7200)
        row.refresh_at = grants.plan_refresh(obtained, 7200)
        row.refresh_expires_at = obtained + timedelta(days=7)
        rows.append(row)
    UserGrant.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {UserGrant._meta.db_table}")


def _scan_plan() -> str:
    """PostgreSQL's plan of the scan's query."""
    horizon = timezone.now() + timedelta(seconds=settings.TOKEN_SCAN_INTERVAL)
    query = UserGrant.objects.due_for_refresh(horizon).values_list("pk", "refresh_at")
    return query.explain()


def _refresh_cost(credential: Credential) -> dict:
    """CPU seconds (this process: the worker's side) and queries per refresh, over REFRESHES
    refreshes of real grants against the emulated platform on another process."""
    from tests.tokens.test_user_grants_platforms import consent

    redirect = "http://127.0.0.1:9/tokens/oauth/callback"
    started = grants.authorisation_start(credential=credential, redirect_uri=redirect)
    grant = grants.grant_connect(
        credential=credential,
        code=consent(started.url, "ou_" + f"{1:032x}"),
        redirect_uri=redirect,
        code_verifier=started.pending["verifier"],
        actor=Actor.system("bench"),
    )
    cpu, wall = time.process_time(), time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(REFRESHES):
            grants.grant_refresh(grant_id=grant.pk, force=True, reason="scheduled")
    return {
        "cpu_s_per_refresh": round((time.process_time() - cpu) / REFRESHES, 5),
        "wall_ms_per_refresh": round((time.perf_counter() - wall) * 1000 / REFRESHES, 2),
        "queries_per_refresh": round(len(queries) / REFRESHES, 1),
    }


def _handout(port: int, app_credential, user_credential, user_id: str) -> dict:
    """The shipped server: an app token's hand-out and a user token's, rounds interleaved."""
    _, key = client_key_create(
        name="bench-users", credentials=[app_credential, user_credential], user_tokens=True
    )
    headers = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}/api/v1/tokens"
    targets = {
        "app_token": f"{base}/{app_credential.slug}",
        "user_token": f"{base}/{user_credential.slug}/users/{user_id}",
    }
    with procfile_web(port, TOKEN_API_RATE_LIMIT="100000000"):
        token_current(credential=app_credential)
        for url in targets.values():
            assert requests.get(url, headers=headers, timeout=10).ok
            wrk(url, seconds=2, connections=32, headers=headers)
        rounds = [
            {
                name: wrk(url, seconds=5, connections=32, headers=headers)
                for name, url in targets.items()
            }
            for _ in range(3)
        ]
    return {
        name: {
            "requests_per_s": round(sum(r[name]["requests_per_s"] for r in rounds) / 3, 1),
            "p99_ms": sorted(r[name]["p99_ms"] for r in rounds)[1],
            "errors": sum(r[name]["errors"] for r in rounds),
        }
        for name in targets
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the target is for PostgreSQL")
def test_ten_thousand_grants_and_a_thousand_credentials(client, make_user):
    admin = make_user("bench-admin", "admin")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    port = free_port()
    people = feishu_sandbox_credential(f"http://127.0.0.1:{port}", "people")
    apps_only = feishu_sandbox_credential(f"http://127.0.0.1:{port}", "app-only")
    started = time.perf_counter()
    _credentials(CREDENTIALS - 2)
    _grants(people, GRANTS)
    seeded_s = round(time.perf_counter() - started, 1)

    # The scan: what is due in the next interval, through the index, never every grant.
    plan = _scan_plan()
    scan_cpu = time.process_time()
    with CaptureQueriesContext(connection) as scan_queries:
        due = scan_grants()
    scan_cpu = time.process_time() - scan_cpu
    assert "grant_due" in plan and "Seq Scan on tokens_usergrant" not in plan, plan

    # Pages that list grants or credentials: p95 and their query counts at this size.
    pages = {
        "connected_users": f"/tokens/{people.slug}/users/",
        "connected_users_last_page": f"/tokens/{people.slug}/users/?page={GRANTS // 50}",
        "credentials": "/credentials/",
        "tokens": "/tokens/",
        "overview": "/",
    }
    # (Their query counts do not grow with the rows: tests/test_list_queries.py.)
    measured = {name: page_p95(client, url, runs=20) for name, url in pages.items()}
    alerts_started = time.perf_counter()
    from apps.alerts.services import grant_conditions

    grant_conditions(timezone.now())
    alerts_ms = round((time.perf_counter() - alerts_started) * 1000, 1)

    with procfile_web(port):
        cost = _refresh_cost(people)
    # Each grant refreshes once per access-token life (2 h, less the margin and jitter).
    per_hour = GRANTS * 3600 / (7200 - grants.REFRESH_BEFORE)
    scans_per_hour = 3600 / settings.TOKEN_SCAN_INTERVAL
    handout = _handout(port, apps_only, people, "ou_" + f"{1:032x}")
    ratio = handout["user_token"]["requests_per_s"] / handout["app_token"]["requests_per_s"]
    result = {
        "database": settings.DATABASES["default"]["ENGINE"],
        "grants": GRANTS,
        "credentials": CREDENTIALS,
        "seeded_s": seeded_s,
        "scan": {
            "due_in_interval": due,
            "queries": len(scan_queries),
            "cpu_ms": round(scan_cpu * 1000, 2),
            "uses_index": "grant_due" in plan,
            "plan": plan,
        },
        "refresh": cost,
        "per_hour": {
            "refreshes": round(per_hour),
            "worker_cpu_s": round(per_hour * cost["cpu_s_per_refresh"], 1),
            "queries": round(per_hour * cost["queries_per_refresh"]),
            "beat_scans": round(scans_per_hour),
            "beat_cpu_s": round(scans_per_hour * scan_cpu, 2),
        },
        "pages": measured,
        "grant_alerts_ms": alerts_ms,
        "handout": handout,
        "user_vs_app_handout": round(ratio, 3),
    }
    save("user_grants_scale", result)
    print(f"\nscale: {GRANTS} grants, {CREDENTIALS} credentials (seeded in {seeded_s} s)")
    print(f"scan: {due} due, {len(scan_queries)} queries, {result['scan']['cpu_ms']} ms CPU")
    print(f"refresh: {cost}; per hour: {result['per_hour']}")
    for name, figures in measured.items():
        print(f"page {name}: {figures}")
    print(f"grant alerts: {alerts_ms} ms; hand-out: {handout}; user/app {ratio:.0%}")
    assert all(figures["p95_ms"] < 100 for figures in measured.values()), measured
    assert ratio >= 0.8, handout
    assert handout["user_token"]["errors"] == handout["app_token"]["errors"] == 0
