"""The users' grant pages answer 2xx, a redirect or a clear 4xx to anything the platform's
redirect or a stranger's browser may bring (state, code, error, a link's token), never a
500, and none of it connects anyone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.tokens.models import UserGrant
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(live_server, token_credential):
    return token_credential()[0]


HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=200) | st.sampled_from(["\x00", "%00", "a" * 5000, "../../", "é"])


@HYPOTHESIS
@given(state=text, code=text, error=text, anonymous=st.booleans())
def test_any_callback_is_answered_and_connects_no_one(
    people, client_as, state, code, error, anonymous
):
    client = CsrfClient() if anonymous else client_as("admin")
    response = client.get("/tokens/oauth/callback", {"state": state, "code": code, "error": error})
    assert response.status_code in (200, 302, 400, 403, 404), response.content[:300]
    assert not UserGrant.objects.exists()


@HYPOTHESIS
@given(token=text.filter(lambda t: "/" not in t and t not in ("", ".", "..")), post=st.booleans())
def test_any_link_token_is_answered(people, token, post):
    from urllib.parse import quote

    client = CsrfClient()
    url = f"/tokens/oauth/invite?t={quote(token, safe='')}"
    response = client.post(url) if post else client.get(url)
    assert response.status_code == 404, response.content[:300]


@HYPOTHESIS
@given(label=text)
def test_any_link_label_is_kept_or_refused_clearly(people, client_as, label):
    response = client_as("admin").post(f"/tokens/{people.slug}/users/invite/", {"label": label})
    assert response.status_code in (200, 302), response.content[:300]  # kept, or refused
    # with the reason shown on the page it goes back to
