from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import Role

pytestmark = pytest.mark.django_db

# Views that must stay reachable without a role: signing in and out, the language switch,
# the health probe, the metrics scrape, and Django's own admin (which checks is_staff itself).
PUBLIC = {
    "accounts:login",
    "accounts:logout",
    "accounts:password_change",
    # One's own second factor, and the second step of signing in: any signed-in person,
    # with or without a role (tests/accounts/test_second_factor.py).
    "accounts:second_factor",
    "accounts:second_factor_verify",
    # A password-reset link is its own authority; asking for one by e-mail needs no account.
    "accounts:password_reset_confirm",
    "accounts:password_forgot",
    "accounts:password_forgot_sent",
    "accounts:waiting",  # a signed-in person without a role waits here
    # Sign-in with the platforms (allauth's views, tests/signin/): leaving for the platform
    # and coming back, allauth's pages for a cancelled or failed sign-in, and one's own
    # linked identities (signed in, any role or none); the names allauth's flows reverse.
    *(
        f"{p}_signin_{end}"
        for p in ("feishu", "dingtalk", "wecom")
        for end in ("login", "callback")
    ),
    "socialaccount_login_cancelled",
    "socialaccount_login_error",
    "socialaccount_signup",
    "socialaccount_connections",
    "account_login",
    "account_signup",
    "account_inactive",
    "set_language",
    "home:healthz",
    # Prometheus scrapes by address or scrape token (tests/console/test_metrics.py).
    "home:metrics",
    "api-openapi",
    # The token API authenticates business servers by client key (tests/tokens/test_api).
    "api-token",
    "api-token-refresh",
    "api-user-token",
    "api-user-token-refresh",
    "api-ticket",
    "api-ticket-refresh",
    "api-jsapi-signature",
    # The platform's redirect back: it needs the state its session started, and an admin
    # unless a one-time link started it; the link itself is its own authority
    # (tests/tokens/test_grant_invites.py).
    "tokens:oauth_callback",
    "tokens:invite",
}


def _walk(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry.callback


def test_every_project_view_declares_its_roles():
    # The sandbox's endpoints answer with each platform's own authentication, not ours.
    undeclared = [
        name
        for name, view in _walk(get_resolver())
        if name not in PUBLIC
        and not hasattr(view, "allowed_roles")
        and not view.__module__.startswith("apps.sandbox.")
    ]
    assert undeclared == []


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/accounts/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/users/")


def test_htmx_requests_from_anonymous_users_get_a_client_redirect(client):
    response = client.get("/accounts/users/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "role,status", [("admin", 200), ("developer", 403), ("auditor", 403), ("nobody", 302)]
)
def test_user_admin_page_is_for_admins_only(client_as, role, status):
    answer = client_as(role).get("/accounts/users/")
    assert answer.status_code == status
    if role == "nobody":  # signed in without a role: waits for an admin to grant one
        assert answer["Location"] == "/accounts/waiting/"


@pytest.mark.parametrize("role", ["developer", "auditor", "nobody"])
def test_overview_needs_a_role(client_as, role):
    answer = client_as(role).get("/")
    if role == "nobody":
        assert answer.status_code == 302 and answer["Location"] == "/accounts/waiting/"
        waiting = client_as(role).get("/accounts/waiting/")
        assert 'data-testid="waiting-for-role"' in waiting.content.decode()
        assert "mainnav" not in waiting.content.decode()  # nothing to navigate to
        htmx = client_as(role).get("/console/", HTTP_HX_REQUEST="true")
        assert htmx["HX-Redirect"] == "/accounts/waiting/"
    else:
        assert answer.status_code == 200
        assert client_as(role).get("/accounts/waiting/")["Location"] == "/"


def test_a_deactivated_user_is_refused(client_as, users):
    client = client_as("developer")
    users.developer.is_active = False
    users.developer.save()
    assert client.get("/").status_code in {302, 403}


def test_role_is_read_from_groups(users):
    assert users.admin.role == Role.ADMIN
    assert users.developer.role == Role.DEVELOPER
    assert users.nobody.role is None
