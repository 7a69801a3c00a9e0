from __future__ import annotations

import re

import pytest

from apps.accounts.models import User
from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_creates_a_user_with_a_one_time_password_shown_once(client_as, users):
    client = client_as("admin")
    response = client.post(
        "/accounts/users/new/",
        {"username": "newbie", "email": "n@example.com", "role": "developer"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    user = User.objects.get(username="newbie")
    assert user.role == "developer" and user.must_change_password
    shown = response.context["one_time_password"]
    assert shown in response.content.decode()
    assert user.check_password(shown)
    # The page rendered afterwards does not show it again.
    assert shown not in client.get("/accounts/users/").content.decode()
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor_label == users.admin.username
    assert event.details == {"username": "newbie", "role": "developer"}
    assert shown not in str(event.details)


def test_invalid_user_form_rerenders_with_errors_and_keeps_input(client_as, users):
    response = client_as("admin").post(
        "/accounts/users/new/",
        {"username": users.developer.username.upper(), "email": "not-an-email", "role": "auditor"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert 'value="not-an-email"' in html
    assert 'value="auditor" selected' in html
    assert User.objects.count() == 4


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_non_admins_cannot_create_users(client_as, role):
    response = client_as(role).post("/accounts/users/new/", {"username": "sneaky", "role": "admin"})
    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_post_without_csrf_token_is_refused(client_as):
    client = client_as("admin")
    response = client.post(
        "/accounts/users/new/", {"username": "x1", "role": "developer"}, HTTP_X_CSRFTOKEN=""
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="x1").exists()


def test_role_change_is_audited_and_returns_the_row(client_as, users):
    admin = client_as("admin")
    asked = admin.post(
        f"/accounts/users/{users.developer.pk}/role/", {"role": "auditor"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="confirm"' in asked.content.decode()  # one click changes nothing
    assert User.objects.get(pk=users.developer.pk).role == "developer"
    response = admin.post(
        f"/accounts/users/{users.developer.pk}/role/",
        {"role": "auditor", "confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="user-{users.developer.pk}"' in response.content.decode()
    users.developer.refresh_from_db()
    assert User.objects.get(pk=users.developer.pk).role == "auditor"
    event = AuditEvent.objects.get(action="user.role_change")
    assert event.details["from"] == "developer" and event.details["to"] == "auditor"


def test_the_last_admin_cannot_be_demoted(client_as, users):
    response = client_as("admin").post(
        f"/accounts/users/{users.admin.pk}/role/",
        {"role": "developer", "confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert (
        "At least one active admin must remain." in response.content.decode()
        or "至少" in response.content.decode()
    )
    assert User.objects.get(pk=users.admin.pk).role == "admin"
    assert not AuditEvent.objects.filter(action="user.role_change").exists()


def test_deactivate_and_reactivate(client_as, users):
    client = client_as("admin")
    client.post(f"/accounts/users/{users.developer.pk}/active/", {"active": "0"})
    assert not User.objects.get(pk=users.developer.pk).is_active
    client.post(f"/accounts/users/{users.developer.pk}/active/", {"active": "1"})
    assert User.objects.get(pk=users.developer.pk).is_active
    assert list(
        AuditEvent.objects.filter(action__startswith="user.")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["user.deactivate", "user.activate"]


def test_admin_cannot_deactivate_themselves(client_as, users):
    client_as("admin").post(f"/accounts/users/{users.admin.pk}/active/", {"active": "0"})
    assert User.objects.get(pk=users.admin.pk).is_active


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_non_admins_cannot_change_roles_or_deactivate(client_as, users, role):
    client = client_as(role)
    assert (
        client.post(f"/accounts/users/{users.admin.pk}/role/", {"role": "developer"}).status_code
        == 403
    )
    assert (
        client.post(f"/accounts/users/{users.admin.pk}/active/", {"active": "0"}).status_code == 403
    )
    assert User.objects.get(pk=users.admin.pk).is_active


def test_user_list_query_count_does_not_grow_with_users(
    client_as, make_user, django_assert_max_num_queries
):
    client = client_as("admin")
    for i in range(15):
        make_user(f"bulk-{i}", "developer")
    with django_assert_max_num_queries(8):
        assert client.get("/accounts/users/").status_code == 200


def test_the_create_user_form_offers_the_least_privilege_first(client_as):
    html = client_as("admin").get("/accounts/users/").content.decode()
    assert re.search(r'<option value="auditor"[^>]*selected', html)
