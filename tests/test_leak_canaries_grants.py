"""Leak canaries for users' grants: a user connected through the platform's consent page
(its code in the callback's query), another through a one-time link, the user's token handed
out by the token API, refreshed, and used by the console's "send as"; then the database, the
logs, the cache, the broker and every page fetched are searched for the user's access and
refresh tokens, the authorisation codes, the link's secret and a JS-SDK ticket (fetched, and
used to sign a page), in every encoding."""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from apps.tokens.grants import grant_refresh
from apps.tokens.models import UserGrant
from tests.conftest import CsrfClient
from tests.helpers import all_rows
from tests.test_leak_canaries import _redis_dump, forms

pytestmark = pytest.mark.django_db(transaction=True)


def _consent(url: str, user: str) -> tuple[str, str]:
    """The platform's consent page: the callback path+query and the code in it."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    reply = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "user": user, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(reply.headers["Location"])
    return f"{back.path}?{back.query}", parse_qs(back.query)["code"][0]


def test_no_user_token_code_or_link_secret_leaks_anywhere(
    live_server, token_credential, client_as, client_key, caplog
):
    credential, _ = token_credential(slug="canary-people")
    admin, developer = client_as("admin"), client_as("developer")
    credential.shared_with_developers = True
    credential.save(update_fields=["shared_with_developers"])
    pages: list[str] = []

    def keep(response) -> None:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages.append(content.decode("utf-8", "replace"))

    with caplog.at_level(logging.DEBUG):
        started = admin.post(f"/tokens/{credential.slug}/users/connect/")
        callback, first_code = _consent(started["Location"], "ou_" + f"{1:032x}")
        keep(admin.get(callback, follow=True))
        keep(admin.get(callback))  # replayed: refused
        created = admin.post(f"/tokens/{credential.slug}/users/invite/", {"label": "x"})
        # (shown once there, on purpose: the one page not searched)
        link = re.search(r'data-testid="invite-link"[^>]*>([^<]+)<', created.content.decode())
        path = link.group(1)[link.group(1).index("/tokens/oauth/invite") :].replace("&amp;", "&")
        link_secret = path.split("?t=", 1)[1]
        stranger = CsrfClient()
        keep(stranger.get(path))
        callback, second_code = _consent(stranger.post(path)["Location"], "ou_" + f"{2:032x}")
        keep(stranger.get(callback))
        keep(stranger.get(path))  # spent
        _, key = client_key(credential, user_tokens=True)
        grant = UserGrant.objects.get(user_id="ou_" + f"{1:032x}")
        url = f"{live_server.url}/api/v1/tokens/{credential.slug}/users/{grant.user_id}"
        handed = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=20)
        assert handed.status_code == 200
        first_token = handed.json()["access_token"]
        refresh_tokens = [grant.refresh_token()]
        grant = grant_refresh(grant_id=grant.pk, force=True)
        refresh_tokens.append(grant.refresh_token())
        send = {
            "credential": credential.slug,
            "method": "GET",
            "path": "/open-apis/authen/v1/user_info",
            "query": "",
            "headers": "",
            "body": "",
            "as_user": grant.user_id,
        }
        ticket_url = f"{live_server.url}/api/v1/tokens/{credential.slug}/tickets/jsapi"
        ticket = requests.get(ticket_url, headers={"Authorization": f"Bearer {key}"}, timeout=20)
        assert ticket.status_code == 200
        ticket = ticket.json()["ticket"]
        signed = requests.post(
            f"{live_server.url}/api/v1/tokens/{credential.slug}/jsapi-signature",
            headers={"Authorization": f"Bearer {key}"},
            json={"url": "https://app.example.com/"},
            timeout=20,
        )
        pages.append(signed.text)  # the signature's answer is searched like a page
        keep(developer.post("/console/send/", send, HTTP_HX_REQUEST="true"))
        keep(developer.post("/console/preview/", send, HTTP_HX_REQUEST="true"))
        for url in (
            f"/tokens/{credential.slug}/users/",
            f"/tokens/{credential.slug}/",
            "/console/history/",
            "/audit/",
            "/audit/export.jsonl",
            "/",
        ):
            keep(admin.get(url))

    second = UserGrant.objects.get(user_id="ou_" + f"{2:032x}")
    assert "测试用户1" in "".join(pages) and second.state == UserGrant.State.HEALTHY
    places = {
        "database": all_rows(),
        "logs": caplog.text,
        "cache": _redis_dump(os.environ["CACHE_URL"]).decode("latin-1"),
        "broker": _redis_dump(settings.CELERY_BROKER_URL).decode("latin-1"),
    }
    places.update({f"page {n}": page for n, page in enumerate(pages)})
    values = [
        ("user token", first_token),
        ("refreshed user token", grant.access_token()),
        ("other user's token", second.access_token()),
        ("first code", first_code),
        ("link's code", second_code),
        ("link secret", link_secret),
        ("JS-SDK ticket", ticket),
    ] + [(f"refresh token {i}", v) for i, v in enumerate(refresh_tokens + [second.refresh_token()])]
    for name, value in values:
        for form in forms(value):
            leaks = [place for place, text in places.items() if form in text]
            assert leaks == [], f"the {name} ({form[:12]}…) is in {leaks}"
