"""Catalogue type-ahead, server-side: the search view over each platform's whole catalogue,
p50 and p95 over queries taken from the catalogue itself (titles in both languages, path
segments, resources, misses). Target p95 < 50 ms.  `make bench`."""

from __future__ import annotations

import random
import statistics
import time

import pytest

from apps.console import catalogue
from apps.vault.services import credential_create

from .conftest import save

pytestmark = pytest.mark.django_db

# name: (platform, the credential's public values); DingTalk's classic API is a catalogue of
# its own, reached by a credential set to it.
CREDENTIALS = {
    "dingtalk": ("dingtalk", {}),
    "dingtalk-classic": ("dingtalk", {"api": "old"}),
    "feishu": ("feishu", {}),
    "wechat": ("wechat", {}),
    "wecom": ("wecom", {}),
}


def _queries(apis, rng: random.Random, n: int = 200) -> list[str]:
    out = []
    for _ in range(n):
        api = rng.choice(apis)
        kind = rng.randrange(5)
        if kind == 0 and api.title_zh:
            out.append(api.title_zh[: rng.randint(1, 4)])
        elif kind == 1 and api.title_en:
            out.append(" ".join(api.title_en.lower().split()[: rng.randint(1, 2)]))
        elif kind == 2:
            out.append(rng.choice([p for p in api.path.split("/") if p] or ["v1"]))
        elif kind == 3:
            out.append(f"{api.resource} {api.method.lower()}")
        else:
            out.append(f"zz{rng.randint(0, 99999)}")  # a miss scans everything
    return out


def test_catalogue_search_p95(client, make_user):
    admin = make_user("bench-cat", "admin")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    rng = random.Random(7)
    results = {}
    for name, (platform, public) in CREDENTIALS.items():
        credential = credential_create(
            by=None,
            provider=platform,
            name=name,
            slug=f"c-{name}",
            environment="test",
            base_url="",
            public=public,
            secrets={},
        )
        apis = catalogue.entries(platform, catalogue.family_of(credential))
        client.get("/console/catalogue/", {"credential": f"c-{name}", "q": "warm"})
        times = []
        for query in _queries(apis, rng):
            started = time.perf_counter()
            response = client.get("/console/catalogue/", {"credential": f"c-{name}", "q": query})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        results[name] = {
            "entries": len(apis),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        }
        print(f"{name}: {results[name]}")
    save("catalogue_search", results)
    assert all(r["p95_ms"] < 50 for r in results.values()), results
