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
