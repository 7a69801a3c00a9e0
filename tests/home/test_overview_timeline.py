"""The overview's token timeline draws what the token centre will do: a token whose
platform margin exceeds a quarter of its life (Freelog: a day ahead, on a short-lived JWT)
still shows its planned refresh and the tokens after it; labels by either edge stay inside
the chart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.home.overview import WIDTH, _Axis
from apps.tokens.models import AccessToken
from apps.tokens.services import plan_refresh
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db


def _lane(html: str, slug: str) -> str:
    start = html.index(f'href="/tokens/{slug}/"><text')
    return html[start : html.index("</g>", start)]


@pytest.mark.parametrize(
    ("provider", "public", "secrets", "lifetime"),
    [
        # Freelog's margin is a day; the demo's JWT lives 2.5 hours (the quarter rule wins).
        ("freelog", {"login_name": "u"}, {"password": "p-12345678"}, 9000),
        ("feishu", {"app_id": "cli_t"}, {"app_secret": "s-12345678"}, 7200),
    ],
)
def test_the_planned_refresh_and_the_tokens_after_it_are_drawn(
    client_as, provider, public, secrets, lifetime
):
    credential = credential_create(
        by=None,
        provider=provider,
        name=provider,
        slug=f"{provider}-plan",
        environment="test",
        base_url="",
        public=public,
        secrets=secrets,
    )
    now = timezone.now()
    obtained = now - timedelta(minutes=30)
    refresh_at = plan_refresh(credential.platform.refresh_policy, obtained, lifetime)
    AccessToken.objects.create(
        credential=credential,
        version=1,
        obtained_at=obtained,
        expires_at=obtained + timedelta(seconds=lifetime),
        refresh_at=refresh_at,
    )
    lane = _lane(client_as("admin").get("/").content.decode(), credential.slug)
    assert 'class="refresh-dot"' in lane
    first = float(re.search(r'<circle cx="([\d.]+)"', lane).group(1))
    assert first == pytest.approx(_Axis(now)(refresh_at), abs=1.0)
    assert lane.count('class="span-planned"') >= 2  # the next tokens, to the chart's end


def test_axis_labels_by_the_edges_are_anchored_inside():
    now = timezone.now()
    for minutes in range(0, 180, 7):  # wherever "now" falls, labels by an edge stay inside
        for g in _Axis(now + timedelta(minutes=minutes)).grid():
            expected = "end" if g["x"] > WIDTH - 24 else "start" if g["x"] < 24 else "middle"
            assert g["anchor"] == expected
    anchors = {
        g["anchor"]
        for minutes in range(0, 180, 7)
        for g in _Axis(now + timedelta(minutes=minutes)).grid()
    }
    assert anchors == {"start", "middle", "end"}
