"""A lost password: an admin gives a new one-time password on the users page, or, for an admin
who lost theirs, `manage.py password_reset <username>` does."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _signed_in(username: str, password: str) -> Client:
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": username, "password": password}).status_code
        == 302
    )
    return client


def test_an_admin_gives_a_new_one_time_password_after_confirming(client_as, users, make_user):
    victim = make_user("forgetful", "developer", password="the old passphrase 1")
    their_session = _signed_in("forgetful", "the old passphrase 1")
    admin = client_as("admin")
    asked = admin.post(f"/accounts/users/{victim.pk}/password/", HTTP_HX_REQUEST="true")
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.content.decode()
    victim.refresh_from_db()
    assert victim.check_password("the old passphrase 1")  # nothing happened yet
    done = admin.post(f"/accounts/users/{victim.pk}/password/", {"confirm": "yes"})
    assert done.status_code == 200
    shown = done.context["one_time_password"]
    assert shown in done.content.decode()
    victim.refresh_from_db()
    assert victim.check_password(shown) and victim.must_change_password
    assert not victim.check_password("the old passphrase 1")
    # Their open session ended with the old password; the page does not show it again.
    assert their_session.get("/").status_code == 302
    assert shown not in admin.get("/accounts/users/").content.decode()
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor_label == users.admin.username and shown not in str(event.details)
    # The next sign-in asks for a password of their own.
    assert _signed_in("forgetful", shown).get("/").url.startswith("/accounts/password/")


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_only_admins_give_new_passwords(client_as, users, role):
    before = users.admin.password
    answer = client_as(role).post(f"/accounts/users/{users.admin.pk}/password/", {"confirm": "yes"})
    assert answer.status_code == 403
    users.admin.refresh_from_db()
    assert users.admin.password == before


def test_the_command_prints_a_one_time_password_once_and_lifts_a_lockout(make_user, settings):
    admin = make_user("boss", "admin", password="lost forever 12345")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": "boss", "password": "wrong guess"})
    out = io.StringIO()
    call_command("password_reset", "boss", stdout=out)
    shown = re.search(r"one-time password for 'boss': (\S+)", out.getvalue())[1]
    admin.refresh_from_db()
    assert admin.check_password(shown) and admin.must_change_password
    assert _signed_in("boss", shown)  # the lockout is lifted
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor_type == "system" and event.actor_label == "cli"


def test_the_command_names_a_missing_user():
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("password_reset", "nobody")
