"""JS-SDK tickets held like tokens, on the four emulated platforms: one fetch however many
callers ask, served to keys of the credential, a page signature that equals the platform's
rule without the ticket leaving Zhongkong, compare-and-refresh of a rejected ticket, a ticket
call with a token the platform stopped honouring, and WeCom's hourly cap."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.providers.jsapi import sign
from apps.sandbox.models import SandboxToken
from apps.sandbox.platforms import tickets as emulated
from apps.tokens.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "https://app.example.com/page?x=1"


def _api(live_server, key: str, path: str, body: dict | None = None) -> requests.Response:
    method = requests.post if body is not None else requests.get
    return method(
        f"{live_server.url}/api/v1/tokens/{path}",
        headers={"Authorization": f"Bearer {key}"},
        json=body,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("provider", "kind", "millis"),
    [
        ("wechat", "jsapi", False),
        ("wechat", "wx_card", False),
        ("wecom", "jsapi", False),
        ("wecom", "agent_config", False),
        ("feishu", "jsapi", True),
        ("dingtalk", "jsapi", True),
    ],
)
def test_a_ticket_is_fetched_once_and_signs_a_page(
    live_server, token_credential, client_key, provider, kind, millis
):
    credential, app = token_credential(provider, slug=f"{provider}-pages")
    _, key = client_key(credential)
    first = _api(live_server, key, f"{credential.slug}/tickets/{kind}")
    assert first.status_code == 200, first.text
    ticket = first.json()["ticket"]
    assert first.json()["kind"] == kind and first.headers["Cache-Control"] == "no-store"
    assert _api(live_server, key, f"{credential.slug}/tickets/{kind}").json()["ticket"] == ticket
    assert emulated.fetches(app, kind) == 1

    signed = _api(
        live_server, key, f"{credential.slug}/jsapi-signature", {"url": PAGE + "#/x", "kind": kind}
    )
    assert signed.status_code == 200, signed.text
    page = signed.json()
    assert ticket not in signed.text and page["url"] == PAGE
    assert page["signature"] == sign(ticket, page["nonceStr"], page["timestamp"], PAGE)
    assert (page["timestamp"] > 10**12) is millis  # Feishu's page counts milliseconds
    field = credential.platform.jsapi.app_id_field
    assert page["appId"] == credential.public_values[field]
    assert emulated.fetches(app, kind) == 1
    assert (
        AuditEvent.objects.filter(action="ticket.refresh", target_id=credential.slug).count() == 1
    )
    assert Ticket.objects.get().value_blob and ticket not in Ticket.objects.get().value_blob


def test_fifty_callers_make_one_wecom_ticket_fetch(live_server, token_credential, client_key):
    credential, app = token_credential("wecom", slug="wecom-herd")
    _, key = client_key(credential)
    with ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(lambda _: _api(live_server, key, "wecom-herd/tickets/jsapi"), range(50))
        )
    assert [a.status_code for a in answers] == [200] * 50
    assert len({a.json()["ticket"] for a in answers}) == 1
    assert emulated.fetches(app) == 1


def test_a_rejected_ticket_is_replaced_once(live_server, token_credential, client_key):
    credential, app = token_credential("wechat", slug="wechat-cas")
    _, key = client_key(credential)
    old = _api(live_server, key, "wechat-cas/tickets/jsapi").json()["ticket"]
    path = "wechat-cas/tickets/jsapi/refresh"
    with ThreadPoolExecutor(10) as pool:
        renewed = list(
            pool.map(lambda _: _api(live_server, key, path, {"rejected_ticket": old}), range(10))
        )
    assert len({r.json()["ticket"] for r in renewed}) == 1 and old != renewed[0].json()["ticket"]
    assert emulated.fetches(app) == 2  # one more, however many reported it
    late = _api(live_server, key, path, {"rejected_ticket": old})
    assert late.json()["ticket"] == renewed[0].json()["ticket"] and emulated.fetches(app) == 2
    bad = _api(live_server, key, path, {"rejected_ticket": 7})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"


def test_a_token_the_platform_stopped_honouring_is_refreshed_for_the_ticket(
    live_server, token_credential, client_key
):
    credential, app = token_credential("wecom", slug="wecom-stale")
    _, key = client_key(credential)
    assert _api(live_server, key, "wecom-stale/tickets/jsapi").status_code == 200
    SandboxToken.objects.filter(app=app, kind="access_token").update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    Ticket.objects.update(refresh_at=timezone.now())  # due: the next call fetches one
    again = _api(live_server, key, "wecom-stale/tickets/jsapi")
    assert again.status_code == 200, again.text
    assert emulated.fetches(app) == 2


def test_wecoms_hourly_cap_is_kept(live_server, token_credential, client_key):
    credential, app = token_credential("wecom", slug="wecom-cap")
    _, key = client_key(credential)
    held = _api(live_server, key, "wecom-cap/tickets/jsapi").json()["ticket"]
    Ticket.objects.update(fetches=400)
    # At the cap: a reported rejection is answered with the ticket held, not a 401st fetch.
    answer = _api(live_server, key, "wecom-cap/tickets/jsapi/refresh", {"rejected_ticket": held})
    assert answer.status_code == 200 and answer.json()["ticket"] == held
    Ticket.objects.update(value_blob="", expires_at=None)
    refused = _api(live_server, key, "wecom-cap/tickets/jsapi")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "quota"
    assert int(refused.headers["Retry-After"]) <= 3600
    assert emulated.fetches(app) == 1


def test_unknown_kinds_and_bad_bodies_are_clear_refusals(live_server, token_credential, client_key):
    credential, _ = token_credential("feishu", slug="feishu-pages")
    _, key = client_key(credential)
    unknown = _api(live_server, key, "feishu-pages/tickets/wx_card")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    for body in ({}, {"url": "javascript:alert(1)"}, {"url": 7}, {"url": PAGE, "kind": 3}):
        answer = _api(live_server, key, "feishu-pages/jsapi-signature", body)
        assert answer.status_code == 400, body
    assert _api(live_server, "zkck_nope", "feishu-pages/tickets/jsapi").status_code == 401


def test_the_scan_keeps_held_tickets_fresh_and_the_task_is_idempotent(
    live_server, token_credential, client_key, monkeypatch
):
    from apps.tokens import tasks

    queued = {}
    monkeypatch.setattr(
        tasks.refresh_ticket, "apply_async", lambda args, eta: queued.__setitem__(args[0], eta)
    )
    credential, app = token_credential("feishu", slug="feishu-fresh")
    _, key = client_key(credential)
    assert _api(live_server, key, "feishu-fresh/tickets/jsapi").status_code == 200
    assert tasks.scan_tickets() == 0  # planned about 1 h 50 min ahead
    Ticket.objects.update(refresh_at=timezone.now())
    assert tasks.scan_tickets() == 1 and list(queued) == [Ticket.objects.get().pk]
    tasks.refresh_ticket(Ticket.objects.get().pk)
    tasks.refresh_ticket(Ticket.objects.get().pk)  # a duplicate delivery finds it fresh
    assert emulated.fetches(app) == 2
    assert tasks.scan_tickets() == 0  # fresh again: planned well ahead
    assert Ticket.objects.get().refresh_at > timezone.now() + timedelta(hours=1)
