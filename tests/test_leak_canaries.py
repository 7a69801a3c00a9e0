"""Leak canaries: an app secret, the live token and a client key go through everything a
team does (create, test connection, refresh, hand out, console sends and saves, history,
replay, audit review and export, secret look-up), then every place they could land is
searched for them in raw, JSON-escaped, URL-encoded and base64 form: the database dump,
every page and partial fetched, the logs, the cache, the broker, the exports."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from datetime import timedelta
from urllib.parse import quote, quote_plus

import pytest
import redis
import requests
from django.conf import settings
from django.utils import timezone

from apps.console.models import ConsoleCall, SavedRequest
from apps.tokens.models import AccessToken
from tests.helpers import all_rows

pytestmark = pytest.mark.django_db(transaction=True)


def forms(value: str) -> set[str]:
    """The forms a value may be found in (base64 at each of its three alignments)."""
    found = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=True)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
    }
    raw = value.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw).decode()
            found.add(encoded[-(-8 * offset // 6) : (8 * (offset + len(raw))) // 6])
    return {f for f in found if len(f) >= 8}


def _redis_dump(url: str) -> bytes:
    client = redis.Redis.from_url(url)
    dump = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            dump.append(client.get(key) or b"")
        elif kind == b"list":
            dump.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            dump.extend(v for kv in client.hgetall(key).items() for v in kv)
        elif kind == b"set":
            dump.extend(client.smembers(key))
        elif kind == b"zset":
            dump.extend(client.zrange(key, 0, -1))
        dump.append(key)
    return b"\n".join(dump)


def test_no_secret_token_or_client_key_leaks_anywhere(live_server, client_as, users, caplog):
    from apps.sandbox.services import sandbox_app_register
    from apps.tokens.services import handouts_audit
    from apps.vault.models import Credential

    app, secret = sandbox_app_register(provider="feishu", app_id="cli_canary0001")
    admin, developer, auditor = client_as("admin"), client_as("developer"), client_as("auditor")
    pages: list[str] = []

    def keep(response) -> None:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages.append(content.decode("utf-8", "replace"))

    with caplog.at_level(logging.DEBUG):
        keep(
            admin.post(
                "/credentials/new/feishu/",
                {
                    "name": "Canary",
                    "slug": "canary",
                    "environment": "production",
                    "base_url": f"{live_server.url}/sandbox/feishu",
                    "p_app_id": app.app_id,
                    "p_app_secret": secret,
                    "p_token_kind": "tenant_access_token",
                    "notes": "",
                    "enabled": "on",
                    "allowed_users": [users.developer.pk],
                },
                follow=True,
            )
        )
        credential = Credential.objects.get(slug="canary")
        keep(admin.post("/credentials/canary/test/", HTTP_HX_REQUEST="true"))
        keep(admin.post("/tokens/canary/refresh/", follow=True))
        token = AccessToken.objects.get(credential=credential).value()
        created = admin.post("/tokens/keys/", {"name": "svc", "credentials": [credential.pk]})
        raw_key = re.search(r'class="secret-once">(zkck_[^<]+)<', created.content.decode()).group(
            1
        )  # shown once, on purpose
        for _ in range(3):
            handed = requests.get(
                f"{live_server.url}/api/v1/tokens/canary",
                headers={"Authorization": f"Bearer {raw_key}"},
                timeout=20,
            )
            assert handed.status_code == 200
        send = {
            "credential": "canary",
            "method": "POST",
            "path": "/open-apis/im/v1/messages",
            "query": "receive_id_type=open_id",
            "headers": "",
            "body": json.dumps(
                {"receive_id": "ou_1", "msg_type": "text", "content": json.dumps({"text": "hi"})}
            ),
        }
        keep(developer.post("/console/send/", send, HTTP_HX_REQUEST="true"))
        keep(developer.post("/console/preview/", send, HTTP_HX_REQUEST="true"))
        keep(
            developer.post(
                "/console/saved/save/",
                {**send, "save-name": "Send", "save-folder": "im"},
                follow=True,
            )
        )
        call = ConsoleCall.objects.order_by("-pk").first()
        keep(developer.post(f"/console/history/{call.pk}/replay/", HTTP_HX_REQUEST="true"))
        keep(developer.post("/console/export/", send, HTTP_HX_REQUEST="true"))
        saved = SavedRequest.objects.get()
        for url in (
            "/",
            "/credentials/",
            "/credentials/canary/",
            "/credentials/canary/edit/",
            "/tokens/",
            "/tokens/canary/",
            "/tokens/keys/",
            "/console/",
            f"/console/?saved={saved.pk}",
            "/console/history/",
            "/console/saved/",
            "/audit/",
            "/accounts/users/",
            "/healthz",
            "/api/v1/openapi.json",
        ):
            keep(admin.get(url))
        for url in ("/console/", "/console/history/", "/console/saved/", "/tokens/"):
            keep(developer.get(url))
        handouts_audit(before=timezone.now() + timedelta(minutes=2))
        for url in ("/audit/", "/audit/export.csv", "/audit/export.jsonl"):
            keep(auditor.get(url))
        keep(admin.post("/audit/lookup/search/", {"value": token}, HTTP_HX_REQUEST="true"))
        keep(admin.post("/audit/verify/", HTTP_HX_REQUEST="true"))
        # An alert channel: its webhook key and signing secret are sealed like a secret.
        from apps.alerts.models import Channel, Delivery
        from apps.alerts.tasks import deliver
        from apps.sandbox.services import sandbox_bot_register

        bot_key = "canary-bot-key-4c7d1e9a"
        _, bot_secret = sandbox_bot_register(platform="feishu", key=bot_key)
        bot_url = f"{live_server.url}/sandbox/feishu/open-apis/bot/v2/hook/{bot_key}"
        keep(
            admin.post(
                "/alerts/channels/new/",
                {
                    "name": "Ops",
                    "kind": "feishu",
                    "url": bot_url,
                    "secret": bot_secret,
                    "rules": ["stopped"],
                    "enabled": "on",
                },
                follow=True,
            )
        )
        channel = Channel.objects.get()
        keep(admin.post(f"/alerts/channels/{channel.pk}/test/", follow=True))
        keep(admin.get(f"/alerts/channels/{channel.pk}/"))
        pending = Delivery.objects.create(channel=channel, event="test")
        deliver.apply_async((pending.pk,), countdown=3600)  # what a worker would be sent
        for url in ("/audit/", "/audit/export.jsonl"):
            keep(auditor.get(url))

    # The journey really happened: a token was handed out and used, sends succeeded, the
    # hand-outs were moved into the audit log, and the exports hold events.
    from apps.audit.models import AuditEvent

    assert ConsoleCall.objects.filter(ok=True).count() == 2
    assert AuditEvent.objects.filter(action="token.handout").exists()
    assert AuditEvent.objects.filter(action="credential.test", outcome="success").exists()
    assert sum(page.count("console.send") for page in pages) >= 2
    assert AuditEvent.objects.filter(action="alert.delivered").exists()
    places = {
        "database": all_rows(),
        "logs": caplog.text,
        "cache": _redis_dump(os.environ["CACHE_URL"]).decode("latin-1"),
        "broker": _redis_dump(settings.CELERY_BROKER_URL).decode("latin-1"),
    }
    places.update({f"page {n}": page for n, page in enumerate(pages)})
    for name, value in (
        ("app secret", secret),
        ("token", token),
        ("client key", raw_key),
        ("bot key", bot_key),
        ("bot secret", bot_secret),
    ):
        for form in forms(value):
            leaks = [place for place, text in places.items() if form in text]
            assert leaks == [], f"the {name} ({form[:12]}…) is in {leaks}"
