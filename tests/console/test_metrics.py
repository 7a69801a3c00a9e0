"""/metrics: Prometheus' text format, summed over processes, guarded by address or token."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.audit.services import verify_chain
from tests.console.conftest import LIST_USERS

pytestmark = pytest.mark.django_db(transaction=True)


def _samples(text: str) -> dict[tuple, float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_scrape_from_loopback_sees_tokens_sends_and_audit(client, client_as, feishu):
    from apps.tokens.services import token_current

    credential, _ = feishu
    token_current(credential=credential)  # one fetch from the sandbox
    client_as("developer").post("/console/send/", LIST_USERS, HTTP_HX_REQUEST="true")
    verify_chain()
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    samples = _samples(answer.content.decode())
    key = (("credential", "fs"), ("platform", "feishu"))
    assert 7000 < samples[("zk_token_seconds_to_expiry", key)] <= 7200
    assert samples[("zk_token_health", (*key, ("state", "ok")))] == 1
    assert (
        sum(
            v
            for (name, labels), v in samples.items()
            if name == "zk_token_refreshes_total" and ("outcome", "success") in labels
        )
        >= 1
    )
    assert (
        samples[("zk_console_sends_total", (("outcome", "success"), ("platform", "feishu")))] >= 1
    )
    assert samples[("zk_audit_events_total", (("family", "console"),))] >= 1
    assert samples[("zk_audit_verified_head_seq", ())] >= 3


@pytest.mark.parametrize(
    "cache",
    [
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # make run's default
        {"BACKEND": "django.core.cache.backends.redis.RedisCache"},  # production's
    ],
)
def test_a_hand_out_through_the_token_api_is_counted(client, feishu, settings, cache):
    """Whichever cache the hand-out is counted in, /metrics counts it too."""
    from apps.tokens import cache as token_cache
    from apps.tokens.services import client_key_create

    if "redis" in cache["BACKEND"]:
        cache = {**cache, "LOCATION": settings.CACHES["default"]["LOCATION"]}
    settings.CACHES = {"default": cache}
    credential, _ = feishu
    key, raw = client_key_create(name="orders", credentials=[credential])
    label = (("client_key", str(key.pk)), ("credential", str(credential.pk)))

    def counted() -> float:
        token_cache.ledger().flush()  # with Redis, as the ledger's thread does each second
        text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
        return _samples(text).get(("zk_token_handouts_total", label), 0)

    before = counted()
    for _ in range(2):
        answer = client.get("/api/v1/tokens/fs", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert answer.status_code == 200, answer.content
    assert counted() == before + 2


def test_a_scrape_needs_an_allowed_address_or_the_token(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong"
        ).status_code
        == 403
    )
    assert (
        client.get(
            "/metrics",
            REMOTE_ADDR="203.0.113.9",
            HTTP_AUTHORIZATION="Bearer scrape-token-0123456789",
        ).status_code
        == 200
    )
