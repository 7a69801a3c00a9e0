from __future__ import annotations

import logging
import re

import pytest

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_generated_request_id(client):
    response = client.get("/accounts/login/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get("/accounts/login/")["X-Request-ID"] != response["X-Request-ID"]


def test_a_sane_incoming_request_id_is_honoured(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="gw-2024.abc:123")
    assert response["X-Request-ID"] == "gw-2024.abc:123"


@pytest.mark.parametrize(
    "bad", ["short", "has space inside it", "x" * 200, "evil\\nline-ab", "'quoted-id'"]
)
def test_an_insane_incoming_request_id_is_replaced(client, bad):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_lines_and_audit_events_carry_the_request_id(client, caplog, make_user):
    from apps.audit.models import AuditEvent

    make_user("logger-lou", "developer")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(
            "/accounts/login/",
            {"username": "logger-lou", "password": "nope"},
            HTTP_X_REQUEST_ID="req-from-gateway-1",
        )
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-from-gateway-2")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.request_id == "req-from-gateway-1"
    assert event.ip == "127.0.0.1"
    records = [r for r in caplog.records if "no-such-page" in r.getMessage()]
    assert records and records[0].request_id == "req-from-gateway-2"


@pytest.mark.django_db
def test_services_record_the_request_they_serve_without_being_handed_it(client_as):
    """Services take no HTTP request: the audit finds its id and address in the context the
    middleware binds for the request being served."""
    from apps.audit.models import AuditEvent

    client_as("admin").post(
        "/alerts/channels/new/",
        {"name": "Ops", "kind": "email", "email_to": "ops@example.com", "enabled": "on"},
        HTTP_X_REQUEST_ID="req-service-act-1",
        REMOTE_ADDR="203.0.113.9",
    )
    event = AuditEvent.objects.get(action="alerts.channel_create")
    assert (event.request_id, event.ip) == ("req-service-act-1", "203.0.113.9")
    assert event.actor_label == "alice-admin"
