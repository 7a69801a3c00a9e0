"""Token API throughput and p99 under the production gunicorn command (Procfile), against a
bare Django JSON view served by the same server in the same run.  `make bench`."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings

from apps.tokens.services import client_key_create, token_current
from tests.helpers import feishu_sandbox_credential, free_port
from tests.integration.conftest import procfile_web

from .conftest import save, wrk

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS, ROUND = 4, 5  # seconds each, alternating bare view and token API


def _total(runs: list[dict]) -> dict:
    """Requests/s over all rounds; the worst round's p99."""
    return {"requests_per_s": round(sum(r["requests_per_s"] for r in runs) / len(runs), 1),
            "p50_ms": max(r["p50_ms"] for r in runs), "p99_ms": max(r["p99_ms"] for r in runs),
            "errors": sum(r["errors"] for r in runs)}


def test_token_api_against_a_bare_view():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    credential = feishu_sandbox_credential(base, "bench")
    _, key = client_key_create(name="bench", credentials=[credential])
    with procfile_web(port, TOKEN_API_RATE_LIMIT="100000000") as (_, command):
        token_current(credential=credential)  # the token exists: the API only reads
        headers = {"Authorization": f"Bearer {key}"}
        assert requests.get(f"{base}/api/v1/tokens/bench", headers=headers, timeout=10).ok
        wrk(f"{base}/bench/bare", seconds=3)  # warm up every worker
        wrk(f"{base}/api/v1/tokens/bench", seconds=3, headers=headers)
        # Interleaved rounds, so that a slow moment of the machine falls on both.
        rounds = [(wrk(f"{base}/bench/bare", seconds=ROUND),
                   wrk(f"{base}/api/v1/tokens/bench", seconds=ROUND, headers=headers))
                  for _ in range(ROUNDS)]
    bare, api = (_total([r[i] for r in rounds]) for i in (0, 1))
    ratio = api["requests_per_s"] / bare["requests_per_s"]
    result = {"server": " ".join(command), "database": settings.DATABASES["default"]["ENGINE"],
              "rounds": [{"bare": b["requests_per_s"], "token_api": a["requests_per_s"]}
                         for b, a in rounds],
              "bare": bare, "token_api": api, "ratio": round(ratio, 3)}
    save("token_api", result)
    each = ", ".join(f"{a['requests_per_s'] / b['requests_per_s']:.0%}" for b, a in rounds)
    print(f"\nbare view: {bare['requests_per_s']:.0f} req/s, p99 {bare['p99_ms']} ms")
    print(f"token API: {api['requests_per_s']:.0f} req/s, p99 {api['p99_ms']} ms "
          f"({ratio:.0%} of the bare view; rounds: {each})")
    assert api["errors"] == 0 and bare["errors"] == 0
