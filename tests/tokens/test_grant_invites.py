"""One-time authorisation links: an admin sends one to a person without a Zhongkong account;
opening it leads through the platform's consent page and connects that one user, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.tokens.models import GrantInvite, UserGrant
from tests.conftest import CsrfClient
from tests.tokens.test_grant_pages import _consent

pytestmark = pytest.mark.django_db(transaction=True)


def _invite(admin, slug: str) -> str:
    page = admin.post(f"/tokens/{slug}/users/invite/", {"label": "Li Lei, sales"})
    assert page.status_code == 200
    link = re.search(r'data-testid="invite-link"[^>]*>([^<]+)<', page.content.decode()).group(1)
    return link[link.index("/tokens/oauth/invite?t=") :].replace("&amp;", "&")


def _open_and_consent(path: str, user: str) -> tuple[CsrfClient, str]:
    """A stranger's browser: open the link, press continue, consent on the platform."""
    browser = CsrfClient()
    landing = browser.get(path)
    assert landing.status_code == 200 and b'data-testid="invite-start"' in landing.content
    started = browser.post(path)
    assert started.status_code == 302
    return browser, _consent(started["Location"], user)


def test_a_stranger_connects_through_a_link_once(live_server, token_credential, client_as):
    credential, _ = token_credential()
    path = _invite(client_as("admin"), credential.slug)
    token = path.split("?t=", 1)[1]
    invite = GrantInvite.objects.get()
    assert invite.label == "Li Lei, sales" and token not in invite.token_hash  # only its hash
    assert AuditEvent.objects.filter(action="user_grant.invite").count() == 1

    browser, callback = _open_and_consent(path, "ou_" + f"{3:032x}")
    done = browser.get(callback)
    assert done.status_code == 200 and b'data-testid="invite-done"' in done.content
    grant = UserGrant.objects.get()
    assert grant.user_id == "ou_" + f"{3:032x}" and grant.connected_by is None
    assert grant.access_token() not in done.content.decode()
    event = AuditEvent.objects.get(action="user_grant.connect")
    assert event.actor_type == AuditEvent.ActorType.ANONYMOUS
    assert f"invite {invite.pk}" in event.actor_label
    invite.refresh_from_db()
    assert invite.used_at is not None and invite.connected_user_id == grant.user_id

    # Used: the link, and any second authorisation started from it earlier, are refused.
    assert CsrfClient().get(path).status_code == 404
    replay = browser.get(callback)  # its state was used up: not recognised
    assert replay.status_code == 400 and "code=" not in replay.content.decode()
    assert UserGrant.objects.get().version == grant.version


def test_two_authorisations_from_one_link_connect_one_user(
    live_server, token_credential, client_as
):
    credential, _ = token_credential()
    path = _invite(client_as("admin"), credential.slug)
    first, first_back = _open_and_consent(path, "ou_" + f"{4:032x}")
    second, second_back = _open_and_consent(path, "ou_" + f"{5:032x}")
    assert first.get(first_back).status_code == 200
    assert second.get(second_back).status_code == 404  # the link was spent meanwhile
    assert list(UserGrant.objects.values_list("user_id", flat=True)) == ["ou_" + f"{4:032x}"]


def test_a_declined_consent_leaves_the_link_usable(live_server, token_credential, client_as):
    credential, _ = token_credential()
    path = _invite(client_as("admin"), credential.slug)
    browser = CsrfClient()
    started = browser.post(path)
    state = re.search(r"state=([^&]+)", started["Location"]).group(1)
    refused = browser.get(f"/tokens/oauth/callback?error=access_denied&state={state}")
    assert refused.status_code == 400 and not UserGrant.objects.exists()
    assert CsrfClient().get(path).status_code == 200  # still valid


def test_an_expired_or_unknown_link_is_refused(live_server, token_credential, client_as):
    credential, _ = token_credential()
    path = _invite(client_as("admin"), credential.slug)
    GrantInvite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for url in (path, "/tokens/oauth/invite?t=" + "x" * 43, "/tokens/oauth/invite?t=short"):
        for method in ("get", "post"):
            response = getattr(CsrfClient(), method)(url)
            assert response.status_code == 404
            assert b"This link is not valid" in response.content or (
                "链接无效".encode() in response.content
            )


def test_only_admins_create_links_and_an_admins_callback_still_needs_an_admin(
    live_server, token_credential, client_as
):
    credential, _ = token_credential()
    assert (
        client_as("developer").post(f"/tokens/{credential.slug}/users/invite/").status_code == 403
    )
    anonymous = CsrfClient().get("/tokens/oauth/callback?state=nothing&code=x")
    assert anonymous.status_code == 400  # not recognised (and its code not carried on)
    assert not GrantInvite.objects.exists()
