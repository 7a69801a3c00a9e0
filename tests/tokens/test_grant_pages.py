"""Connecting a user from the dashboard through the emulated authorise page, the connected
users page, revoking; the callback accepts only a state this session started, once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from apps.audit.models import AuditEvent
from apps.tokens.models import UserGrant

pytestmark = pytest.mark.django_db(transaction=True)


def _start(client, slug: str) -> str:
    """Press "Connect a user": the platform's authorise URL the browser is sent to."""
    response = client.post(f"/tokens/{slug}/users/connect/")
    assert response.status_code == 302
    return response["Location"]


def _consent(authorise_url: str, open_id: str = "ou_" + f"{2:032x}") -> str:
    """The user consents on the platform's page; the path and query it sends them back to."""
    parts = urlsplit(authorise_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    page = requests.get(authorise_url, timeout=10)
    assert page.status_code == 200 and "测试用户1" in page.text
    reply = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "user": open_id, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(reply.headers["Location"])
    return f"{back.path}?{back.query}"


def test_an_admin_connects_a_user_and_sees_them_healthy(live_server, token_credential, client_as):
    credential, _ = token_credential()
    admin = client_as("admin")
    url = _start(admin, credential.slug)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    assert "scope=offline_access" in url
    callback = _consent(url)
    assert callback.startswith("/tokens/oauth/callback?")
    done = admin.get(callback)
    assert done.status_code == 302 and done["Location"] == f"/tokens/{credential.slug}/users/"
    grant = UserGrant.objects.get()
    assert grant.name == "测试用户2" and grant.state == UserGrant.State.HEALTHY
    page = admin.get(f"/tokens/{credential.slug}/users/")
    html = page.content.decode()
    assert "测试用户2" in html and 'data-testid="grant-row"' in html
    assert "/tokens/oauth/callback" in html  # the redirect URL to register is shown
    assert grant.access_token() not in html and grant.refresh_token() not in html
    # The same answer again (a reload, or a replay) is refused: the state was used up.
    again = admin.get(callback)
    assert again.status_code == 400
    assert UserGrant.objects.get().version == grant.version


def test_a_callback_from_another_session_is_refused(live_server, token_credential, client_as):
    credential, _ = token_credential()
    callback = _consent(_start(client_as("admin"), credential.slug))
    other = client_as("admin")  # another browser of the same admin: not its state
    assert other.get(callback).status_code == 400
    assert not UserGrant.objects.exists()


def test_declining_connects_nothing(live_server, token_credential, client_as):
    credential, _ = token_credential()
    admin = client_as("admin")
    url = _start(admin, credential.slug)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    reply = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "decision": "deny"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(reply.headers["Location"])
    done = admin.get(f"{back.path}?{back.query}", follow=True)
    assert "did not authorise" in done.content.decode() or "没有授权" in done.content.decode()
    assert not UserGrant.objects.exists()


def test_only_admins_connect_or_revoke_and_developers_may_look(
    live_server, token_credential, client_as
):
    credential, _ = token_credential()
    developer = client_as("developer")
    assert developer.post(f"/tokens/{credential.slug}/users/connect/").status_code == 403
    assert client_as("auditor").get(f"/tokens/{credential.slug}/users/").status_code == 403


def test_revoking_asks_first_then_forgets_the_grant(live_server, token_credential, client_as):
    credential, _ = token_credential()
    admin = client_as("admin")
    admin.get(_consent(_start(admin, credential.slug)))
    grant = UserGrant.objects.get()
    url = f"/tokens/{credential.slug}/users/{grant.pk}/revoke/"
    asked = admin.post(url)
    assert asked.status_code == 200 and UserGrant.objects.exists()
    assert client_as("developer").post(url, {"confirm": "yes"}).status_code == 403
    done = admin.post(url, {"confirm": "yes"})
    assert done.status_code == 302 and not UserGrant.objects.exists()
    assert AuditEvent.objects.filter(action="user_grant.revoke").count() == 1


def test_the_page_lists_in_pages_with_constant_queries(
    live_server, token_credential, client_as, django_assert_max_num_queries
):
    credential, _ = token_credential()
    UserGrant.objects.bulk_create(
        UserGrant(credential=credential, user_id=f"ou_{i:04d}", name=f"user {i:04d}")
        for i in range(120)
    )
    admin = client_as("admin")
    with django_assert_max_num_queries(12):
        first = admin.get(f"/tokens/{credential.slug}/users/").content.decode()
    assert first.count('data-testid="grant-row"') == 50 and "1 / 3" in first
    last = admin.get(f"/tokens/{credential.slug}/users/?page=3").content.decode()
    assert last.count('data-testid="grant-row"') == 20


def test_an_admin_creates_a_key_that_may_read_some_users_tokens(
    live_server, token_credential, client_as
):
    from apps.tokens.models import ClientKey

    credential, _ = token_credential()
    admin = client_as("admin")
    form = {"name": "people-svc", "credentials": [credential.pk], "user_tokens": "on"}
    admin.post("/tokens/keys/", {**form, "user_ids": "ou_a ou_b ou_a"})
    key = ClientKey.objects.get(name="people-svc")
    assert key.user_tokens and key.user_id_list() == ["ou_a", "ou_b"]
    page = admin.get("/tokens/keys/").content.decode()
    assert "ou_a ou_b" in page
    refused = admin.post("/tokens/keys/", {**form, "name": "x", "user_ids": "o" * 129})
    assert refused.status_code == 422 and not ClientKey.objects.filter(name="x").exists()


def test_the_command_line_creates_a_key_for_user_tokens(live_server, token_credential):
    import io

    from django.core.management import call_command

    from apps.tokens.models import ClientKey

    credential, _ = token_credential()
    out = io.StringIO()
    call_command(
        "client_key",
        "create",
        "--name",
        "cli-people",
        "--credential",
        credential.slug,
        "--user-tokens",
        "--user",
        "ou_c",
        stdout=out,
        stderr=io.StringIO(),
    )
    key = ClientKey.objects.get(name="cli-people")
    assert key.user_tokens and key.user_id_list() == ["ou_c"]
    assert out.getvalue().strip().startswith("zkck_")


def test_a_grant_whose_refresh_token_ends_soon_shows_as_expiring(
    live_server, token_credential, client_as
):
    from datetime import timedelta

    from django.utils import timezone

    credential, _ = token_credential()
    now = timezone.now()
    grant = UserGrant.objects.create(credential=credential, user_id="ou_soon", name="soon")
    UserGrant.objects.filter(pk=grant.pk).update(
        access_blob=grant.seal_access("u-x"),
        refresh_blob=grant.seal_refresh("ur-x"),
        expires_at=now + timedelta(hours=1),
        refresh_expires_at=now + timedelta(days=1),
    )
    html = client_as("admin").get(f"/tokens/{credential.slug}/users/").content.decode()
    assert "即将失效" in html or "expiring" in html
    UserGrant.objects.filter(pk=grant.pk).update(refresh_expires_at=now + timedelta(days=30))
    html = client_as("admin").get(f"/tokens/{credential.slug}/users/").content.decode()
    assert "即将失效" not in html and "expiring" not in html
