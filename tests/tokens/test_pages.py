from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.tokens.models import ClientKey
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def feishu(users):
    return credential_create(
        by=users.admin,
        provider="feishu",
        name="Feishu",
        slug="fs",
        environment="test",
        public={"app_id": "cli_x"},
        secrets={"app_secret": "s" * 20},
        shared_with_developers=True,
    )


@pytest.mark.parametrize("role,status", [("admin", 200), ("developer", 200), ("auditor", 403)])
def test_token_pages_by_role(client_as, feishu, role, status):
    client = client_as(role)
    assert client.get("/tokens/").status_code == status
    assert client.get("/tokens/fs/").status_code == (200 if status == 200 else 403)


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_only_admins_refresh_or_manage_keys(client_as, feishu, role):
    client = client_as(role)
    assert client.post("/tokens/fs/refresh/").status_code == 403
    assert client.get("/tokens/keys/").status_code == 403
    assert (
        client.post("/tokens/keys/", {"name": "x", "credentials": [feishu.pk]}).status_code == 403
    )
    assert not ClientKey.objects.exists()


def test_admin_creates_a_key_shown_once_and_revokes_it(client_as, feishu):
    client = client_as("admin")
    created = client.post("/tokens/keys/", {"name": "orders", "credentials": [feishu.pk]})
    raw = created.context["raw_key"]
    assert raw.startswith("zkck_") and raw in created.content.decode()
    assert created["Cache-Control"] == "no-store"
    assert raw not in client.get("/tokens/keys/").content.decode()
    key = ClientKey.objects.get(name="orders")
    assert key.key_hash == ClientKey.hash(raw) and list(key.credentials.all()) == [feishu]
    asked = client.post(f"/tokens/keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert 'data-testid="confirm"' in asked.content.decode() and key.revoked_at is None
    client.post(f"/tokens/keys/{key.pk}/revoke/", {"confirm": "yes"})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_invalid_key_form_keeps_input(client_as, feishu):
    response = client_as("admin").post("/tokens/keys/", {"name": "orders", "credentials": []})
    assert response.status_code == 422
    assert 'value="orders"' in response.content.decode()


def test_client_key_command_prints_the_key_once(feishu):
    out, err = StringIO(), StringIO()
    call_command(
        "client_key", "create", "--name", "ci", "--credential", "fs", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    assert ClientKey.objects.get(name="ci").key_hash == ClientKey.hash(raw)
    assert raw not in err.getvalue()
    with pytest.raises(CommandError, match="no such credential"):
        call_command("client_key", "create", "--name", "x", "--credential", "missing")


def test_token_list_query_count(client_as, users, django_assert_max_num_queries):
    for i in range(10):
        credential_create(
            by=users.admin,
            provider="wechat",
            name=f"w{i}",
            slug=f"w{i}",
            environment="test",
            public={"appid": "wx"},
            secrets={"secret": "s"},
        )
    client = client_as("admin")
    with django_assert_max_num_queries(8):
        assert client.get("/tokens/").status_code == 200


def test_credential_list_shows_token_health(client_as, feishu):
    from datetime import timedelta

    from django.utils import timezone

    from apps.tokens.models import AccessToken

    AccessToken.objects.create(
        credential=feishu, version=3, expires_at=timezone.now() + timedelta(hours=1)
    )
    html = client_as("developer").get("/credentials/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "正常" in html  # the same health as the token pages
    AccessToken.objects.filter(credential=feishu).update(last_error={"code": "10015"})
    assert "上次刷新失败" in client_as("developer").get("/credentials/").content.decode()


def test_a_client_key_cannot_name_a_credential_without_tokens(db):
    from apps.tokens.services import client_key_create
    from apps.vault.services import credential_create

    flashduty = credential_create(
        by=None,
        provider="flashduty",
        name="fd",
        slug="fd",
        environment="test",
        public={},
        secrets={"app_key": "a-static-app-key-123"},
    )
    with pytest.raises(ValueError, match="no token to hand out: fd"):
        client_key_create(name="x", credentials=[flashduty])
