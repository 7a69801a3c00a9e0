"""Token API throughput and p99 under the production web command (the Procfile's granian)
and two gunicorn references, against Django JSON views served by the same server in the
same run.  `make bench`."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings

from apps.tokens.services import client_key_create, token_current
from tests.helpers import feishu_sandbox_credential, free_port
from tests.integration.conftest import REFERENCE_SERVERS, procfile_web

from .conftest import save, wrk

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS, ROUND = 3, 5  # seconds each, interleaving the targets


def _total(runs: list[dict]) -> dict:
    """Requests/s over all rounds; the median round's p99 (one stall of this shared 2-core
    machine lands in one round, not in the server's tail) and the worst round's."""
    p99s = sorted(r["p99_ms"] for r in runs)
    return {
        "requests_per_s": round(sum(r["requests_per_s"] for r in runs) / len(runs), 1),
        "p50_ms": max(r["p50_ms"] for r in runs),
        "p99_ms": p99s[len(p99s) // 2],
        "p99_worst_ms": p99s[-1],
        "p99_rounds_ms": [r["p99_ms"] for r in runs],
        "errors": sum(r["errors"] for r in runs),
    }


def _measure(port: int, key: str, credential, server: str) -> tuple[dict, str]:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    targets = {
        "plain": (f"{base}/bench/plain", None),
        "bare": (f"{base}/bench/bare", None),
        "token_api": (f"{base}/api/v1/tokens/bench", headers),
    }
    with procfile_web(port, server=server, TOKEN_API_RATE_LIMIT="100000000") as (_, command):
        token_current(credential=credential)  # the token exists: the API only reads
        assert requests.get(targets["token_api"][0], headers=headers, timeout=10).ok
        for url, extra in targets.values():  # warm up every worker
            wrk(url, seconds=2, connections=32, headers=extra)
        # Interleaved rounds, so that a slow moment of the machine falls on every target.
        rounds = [
            {
                name: wrk(url, seconds=ROUND, connections=32, headers=extra)
                for name, (url, extra) in targets.items()
            }
            for _ in range(ROUNDS)
        ]
    return {
        name: _total([r[name] for r in rounds])
        | {"rounds": [r[name]["requests_per_s"] for r in rounds]}
        for name in targets
    }, " ".join(command)


def test_token_api_against_plain_and_bare_views():
    """The token API against a Django view with no middleware (`plain`) and one behind the
    pages' full stack (`bare`), on the server the product ships (the Procfile's granian) and
    on gunicorn's sync and gthread workers, wrk -t2 -c32, rounds interleaved."""
    port = free_port()
    credential = feishu_sandbox_credential(f"http://127.0.0.1:{port}", "bench")
    _, key = client_key_create(name="bench", credentials=[credential])
    servers = {}
    for server in ("procfile", *REFERENCE_SERVERS):
        servers[server], command = _measure(port, key, credential, server)
        servers[server]["command"] = command
    shipped, sync = servers["procfile"], servers["gunicorn sync"]
    api, plain = shipped["token_api"], shipped["plain"]
    result = {
        "database": settings.DATABASES["default"]["ENGINE"],
        "servers": servers,
        "api_vs_plain": round(api["requests_per_s"] / plain["requests_per_s"], 3),
        "api_p99_vs_plain_p99": round(api["p99_ms"] / plain["p99_ms"], 2),
        "api_vs_sync_plain": round(api["requests_per_s"] / sync["plain"]["requests_per_s"], 3),
    }
    save("token_api", result)
    for label, found in servers.items():
        print(
            f"\n{label}: "
            + ", ".join(
                f"{name} {found[name]['requests_per_s']:.0f} req/s p99 {found[name]['p99_ms']} ms "
                f"(worst round {found[name]['p99_worst_ms']})"
                for name in ("plain", "bare", "token_api")
            )
        )
    print(
        f"token API / plain view (shipped): {result['api_vs_plain']:.0%}, p99 "
        f"{result['api_p99_vs_plain_p99']}x; / plain view under gunicorn sync workers: "
        f"{result['api_vs_sync_plain']:.0%}"
    )
    assert all(
        found[name]["errors"] == 0
        for found in servers.values()
        for name in ("plain", "bare", "token_api")
    )
