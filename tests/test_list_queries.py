"""List pages read a fixed number of queries however many rows they show (no N+1):
measured with a few rows, then held to that with many more."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.alerts.models import Delivery
from apps.alerts.services import channel_save
from apps.audit.services import Actor, record
from apps.console.models import ConsoleCall, SavedRequest
from apps.tokens.services import client_key_create
from apps.vault.services import credential_create
from tests.helpers import stopped_alert

pytestmark = pytest.mark.django_db


def _rows(users, n: int, start: int) -> None:
    for i in range(start, start + n):
        credential = credential_create(
            by=users.admin,
            provider="feishu",
            name=f"c{i}",
            slug=f"c{i}",
            environment="test",
            base_url="",
            public={"app_id": f"cli_{i}"},
            secrets={"app_secret": f"s-{i:08d}"},
            shared_with_developers=True,
        )
        ConsoleCall.objects.create(
            user=users.developer,
            credential=credential,
            method="GET",
            url=f"https://x/{i}",
            request_spec={"path": f"/{i}"},
        )
        SavedRequest.objects.create(
            owner=users.developer,
            credential=credential,
            name=f"r{i}",
            folder=f"f{i % 3}",
            shared=i % 2 == 0,
            request_spec={"method": "GET", "path": f"/{i}"},
        )
        client_key_create(name=f"k{i}", credentials=[credential])
        channel = channel_save(
            channel=None,
            by=users.admin,
            name=f"ch{i}",
            kind="webhook",
            enabled=True,
            rules=["stopped"],
            url=f"https://hooks.example.com/{i}",
        )
        alert = stopped_alert(f"c{i}", resolved_at=timezone.now() if i % 2 else None)
        Delivery.objects.create(alert=alert, channel=channel, event="firing", status="sent")
        record(
            action="credential.test",
            actor=Actor.user(users.admin),
            target_type="credential",
            target_id=credential.slug,
        )


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("developer", "/console/history/"),
        ("admin", "/console/history/"),
        ("developer", "/console/saved/"),
        ("developer", "/console/"),
        ("admin", "/tokens/keys/"),
        ("auditor", "/audit/"),
        ("admin", "/credentials/"),
        ("admin", "/tokens/"),
        ("admin", "/alerts/"),
        ("admin", "/"),
        ("developer", "/"),
    ],
)
def test_a_list_page_reads_the_same_queries_for_more_rows(
    client_as, users, role, url, django_assert_max_num_queries
):
    client = client_as(role)
    _rows(users, 2, 0)
    assert client.get(url).status_code == 200  # warm (sessions, caches)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _rows(users, 12, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_connected_users_page_reads_the_same_queries_for_more_users(
    client_as, users, django_assert_max_num_queries
):
    from apps.tokens.grants import invite_create
    from apps.tokens.models import UserGrant

    credential = credential_create(
        by=users.admin,
        provider="feishu",
        name="people",
        slug="people",
        environment="test",
        base_url="",
        public={"app_id": "cli_people"},
        secrets={"app_secret": "s-people-1"},
    )

    def grant(n: int, start: int) -> None:
        for i in range(start, start + n):
            row = UserGrant(credential=credential, user_id=f"ou_{i}", name=f"user {i}")
            row.access_blob, row.refresh_blob = row.seal_access("a"), row.seal_refresh("r")
            row.save()
            invite_create(
                credential=credential, label=f"i{i}", actor=Actor.system("t"), by=users.admin
            )

    client = client_as("admin")
    grant(2, 0)
    assert client.get("/tokens/people/users/").status_code == 200
    with CaptureQueriesContext(connection) as few:
        assert client.get("/tokens/people/users/").status_code == 200
    grant(12, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/tokens/people/users/").status_code == 200
