"""The token page's JS-SDK tickets: what is held (a fingerprint, never the ticket), this
hour's fetches against the platform's cap, an admin's "replace" (a compare-and-refresh, so
the cap still holds), and "sign a page", which answers what the signature endpoint would."""

from __future__ import annotations

import re

import pytest

from apps.audit.models import AuditEvent
from apps.providers.jsapi import sign
from apps.sandbox.platforms import tickets as emulated
from apps.tokens.models import Ticket
from apps.vault.models import Credential

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "https://app.example.com/inside/feishu?tab=2"


@pytest.fixture
def wecom(token_credential):
    credential, app = token_credential("wecom", slug="wecom-tickets")
    Credential.objects.filter(pk=credential.pk).update(shared_with_developers=True)
    return Credential.objects.get(pk=credential.pk), app


def test_the_page_lists_each_kind_before_any_fetch(client_as, wecom):
    credential, app = wecom
    page = client_as("developer").get(f"/tokens/{credential.slug}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="ticket-jsapi"' in html and 'data-testid="ticket-agent_config"' in html
    assert "0 / 400" in html and "0 / 100" in html  # WeCom's hourly caps, corp and app
    assert 'data-testid="ticket-refresh-jsapi"' not in html  # developers do not fetch
    assert emulated.fetches(app, "jsapi") == 0


def test_an_admin_fetches_then_replaces_a_ticket_and_the_page_shows_only_its_fingerprint(
    client_as, wecom
):
    credential, app = wecom
    admin = client_as("admin")
    assert admin.post(f"/tokens/{credential.slug}/tickets/jsapi/refresh/").status_code == 302
    first = Ticket.objects.get(credential=credential, kind="jsapi")
    html = admin.get(f"/tokens/{credential.slug}/").content.decode()
    assert first.fingerprint in html and "(v1)" in html and "1 / 400" in html
    assert first.value() not in html

    admin.post(f"/tokens/{credential.slug}/tickets/jsapi/refresh/")
    second = Ticket.objects.get(pk=first.pk)
    assert second.version == 2 and second.value() != first.value()
    assert emulated.fetches(app, "jsapi") == 2
    events = AuditEvent.objects.filter(action="ticket.refresh", target_id=credential.slug)
    assert events.count() == 2 and {e.actor_label for e in events} == {"alice-admin"}


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_only_admins_replace_tickets(client_as, wecom, role):
    credential, app = wecom
    answer = client_as(role).post(f"/tokens/{credential.slug}/tickets/jsapi/refresh/")
    assert answer.status_code == 403 and emulated.fetches(app, "jsapi") == 0


def test_an_unknown_kind_is_not_found(client_as, wecom):
    credential, app = wecom
    answer = client_as("admin").post(f"/tokens/{credential.slug}/tickets/wx_card/refresh/")
    assert answer.status_code == 404 and not Ticket.objects.exists()


def test_a_developer_signs_a_page_as_the_endpoint_would_without_seeing_the_ticket(
    client_as, token_credential
):
    credential, app = token_credential("feishu", slug="feishu-pages")
    Credential.objects.filter(pk=credential.pk).update(shared_with_developers=True)
    signed = client_as("developer").post(
        f"/tokens/{credential.slug}/tickets/sign/",
        {"url": PAGE + "#/deep", "kind": "jsapi"},
        HTTP_HX_REQUEST="true",
    )
    html = signed.content.decode()
    assert signed.status_code == 200, html
    ticket = Ticket.objects.get(credential=credential).value()
    assert ticket not in html
    config = signed.context["signed"]
    assert config["url"] == PAGE and config["appId"] == credential.public_values["app_id"]
    assert config["timestamp"] > 10**12  # Feishu counts milliseconds
    assert config["signature"] == sign(ticket, config["nonceStr"], config["timestamp"], PAGE)
    assert re.search(rf'"signature": "{config["signature"]}"', html)
    client_as("developer").post(
        f"/tokens/{credential.slug}/tickets/sign/", {"url": PAGE, "kind": "jsapi"}
    )
    assert emulated.fetches(app, "jsapi") == 1  # the second signature used the ticket held


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "This field is required"),
        ("ftp://files.example.com/x", "https://"),
        ("https://a.example.com/with space", "https://"),
        ("https://a.example.com/\x00", "Null characters"),
    ],
)
def test_a_bad_url_is_refused_clearly_and_fetches_nothing(client_as, wecom, url, problem):
    credential, app = wecom
    admin = client_as("admin")
    admin.cookies["django_language"] = "en"
    answer = admin.post(
        f"/tokens/{credential.slug}/tickets/sign/",
        {"url": url, "kind": "jsapi"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 422 and problem in answer.content.decode()
    assert emulated.fetches(app, "jsapi") == 0


def test_a_failing_platform_is_said_on_the_page(client_as, wecom):
    credential, app = wecom
    Credential.objects.filter(pk=credential.pk).update(base_url="http://127.0.0.1:9/sandbox/wecom")
    admin = client_as("admin")
    admin.cookies["django_language"] = "en"
    answer = admin.post(f"/tokens/{credential.slug}/tickets/sign/", {"url": PAGE, "kind": "jsapi"})
    assert answer.status_code == 422
    assert "No ticket could be fetched" in answer.content.decode()
    assert 'data-testid="tickets"' in answer.content.decode()  # the whole page, not a fragment
