"""Pages at a thousand credentials stay pages: the credentials and tokens lists are
paginated, the overview's timeline shows the lanes that most need a look and says how many
more the tokens page lists."""

from __future__ import annotations

import pytest

from apps.tokens.models import AccessToken
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db


def _many(n: int) -> list:
    return [
        credential_create(
            by=None,
            provider="feishu",
            name=f"app {i:03d}",
            slug=f"app-{i:03d}",
            environment="prod",
            public={"app_id": f"cli_{i:03d}"},
            secrets={"app_secret": f"secret-{i:08d}"},
        )
        for i in range(n)
    ]


def test_lists_are_paginated_with_their_filters_kept(client_as):
    _many(60)
    admin = client_as("admin")
    first = admin.get("/tokens/").content.decode()
    assert first.count('id="token-app-') == 50 and 'data-testid="pager"' in first
    second = admin.get("/tokens/?page=2").content.decode()
    assert second.count('id="token-app-') == 10 and "app-059" in second
    credentials = admin.get("/credentials/?platform=feishu").content.decode()
    assert credentials.count("/credentials/app-") == 50
    assert "platform=feishu&amp;page=2" in credentials  # the filter survives paging
    assert admin.get("/credentials/?page=99").status_code == 200  # the last page, not a 404


def test_the_timeline_shows_the_credentials_that_need_a_look_first(client_as):
    made = _many(30)
    broken = made[27]
    AccessToken.objects.update_or_create(
        credential=broken, defaults={"blocked_reason": "credential", "last_error": {"code": "x"}}
    )
    html = client_as("admin").get("/").content.decode()
    assert html.count('class="lane state-') == 24
    assert 'data-testid="timeline-more"' in html and "6" in html
    assert broken.slug in html  # the stopped one made the cut, though it sorts late by name
