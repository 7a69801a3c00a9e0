"""Every state-changing view and API endpoint records an audit event. The URL conf is
walked: any route that accepts a POST must be listed here with a real act, and the act must
add an event (read-only routes answer a POST with 405)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.tokens.services import client_key_create, handouts_audit
from apps.vault.services import credential_create
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db

# Routes that take a POST but store nothing: the language cookie, and the console's curl
# import/export and auth preview, which only transform the text they are given.
# "Connect a user" only sends the browser to the platform: the connect it leads to (the
# callback, a GET) is the act, and is audited (tests/tokens/test_user_grants.py).
NOT_AUDITED = {
    "set_language",
    "console:import",
    "console:export",
    "console:preview",
    "tokens:grant_connect",
    "tokens:invite",  # the same start, from a one-time link (creating the link is audited)
    # Leaving for a platform's sign-in page stores nothing; what comes back is audited
    # (sign-in, sign-up, link, or the failure: tests/signin/).
    "feishu_signin_login",
    "dingtalk_signin_login",
    "wecom_signin_login",
    "feishu_signin_callback",
    "dingtalk_signin_callback",
    "wecom_signin_callback",
    "socialaccount_signup",
    "account_login",  # names allauth reverses, redirecting to Zhongkong's own sign-in page
    "account_signup",
    "account_inactive",
    # Signing a page's URL changes nothing (a ticket fetch it may cause is ticket.refresh).
    "tokens:ticket_sign",
}
DUMMY = {
    "pk": 999999,
    "slug": "zz-none",
    "seq": 1,
    "provider": "feishu",
    "fmt": "csv",
    "user_id": "ou_none",
    "kind": "jsapi",
    "uidb64": "MQ",
    "token": "set-password",
}


def _routes(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin" or "sandbox" in str(entry.pattern):
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            params = getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex
            yield f"{namespace}{entry.name}", list(params)


@pytest.fixture
def world(users):
    credential = credential_create(
        by=users.admin,
        provider="feishu",
        name="Feishu",
        slug="fs",
        environment="test",
        base_url="https://127.0.0.1:9/unreachable",
        public={"app_id": "cli_x"},
        secrets={"app_secret": "a-secret-value-123"},
        shared_with_developers=True,
    )
    key, raw = client_key_create(name="biz", credentials=[credential])
    return {"credential": credential, "key": key, "raw": raw}


def _admin(users) -> CsrfClient:
    client = CsrfClient()
    client.force_login(users.admin, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _device(user, confirmed: bool = True):
    from apps.accounts.models import Authenticator

    device = Authenticator.start(user)
    device.confirmed = confirmed
    device.save(update_fields=["confirmed"])
    return device


def _reset_by_link(client, users):
    from apps.accounts.services import user_reset_link

    link = user_reset_link(user=users.developer, by=users.admin)
    visitor = CsrfClient()
    form = visitor.get(urlsplit(link).path, follow=True)
    return visitor.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a fresh passphrase 42", "new_password2": "a fresh passphrase 42"},
    )


def _forgot(client, users):
    from django.test import override_settings

    users.developer.email = "dan@example.com"
    users.developer.save()
    with override_settings(PASSWORD_RESET_BY_EMAIL=True):
        return CsrfClient().post(reverse("accounts:password_forgot"), {"email": "dan@example.com"})


def _unlink(client, users):
    from allauth.socialaccount.models import SocialAccount

    account = SocialAccount.objects.create(user=users.admin, provider="feishu_signin", uid="ou_x")
    return client.post(reverse("socialaccount_connections"), {"account": account.pk})


ACTS = {
    "socialaccount_connections": lambda c, w, u: _unlink(c, u),
    "signin:settings": lambda c, w, u: c.post(
        reverse("signin:settings"), {"feishu-credential": w["credential"].pk}
    ),
    "accounts:user_password_link": lambda c, w, u: c.post(
        reverse("accounts:user_password_link", args=[u.developer.pk]), {"confirm": "yes"}
    ),
    "accounts:password_reset_confirm": lambda c, w, u: _reset_by_link(c, u),
    "accounts:password_forgot": lambda c, w, u: _forgot(c, u),
    "accounts:second_factor": lambda c, w, u: (
        c.post(reverse("accounts:second_factor"), {"action": "start"}),
        c.post(reverse("accounts:second_factor"), {"action": "confirm", "code": "000000"}),
    )[-1],
    "accounts:second_factor_verify": lambda c, w, u: (
        _device(u.admin),
        c.post(reverse("accounts:second_factor_verify"), {"code": "000000"}),
    )[-1],
    "accounts:sign_in_policy": lambda c, w, u: c.post(
        reverse("accounts:sign_in_policy"), {"second_factor": "admins", "passwords": "everyone"}
    ),
    "accounts:user_second_factor_remove": lambda c, w, u: (
        _device(u.developer),
        c.post(
            reverse("accounts:user_second_factor_remove", args=[u.developer.pk]),
            {"confirm": "yes"},
        ),
    )[-1],
    "tokens:ticket_refresh": lambda c, w, u: c.post(
        reverse("tokens:ticket_refresh", args=["fs", "jsapi"])
    ),
    "tokens:grant_invite": lambda c, w, u: c.post(
        reverse("tokens:grant_invite", args=["fs"]), {"label": "for someone"}
    ),
    "accounts:login": lambda c, w, u: CsrfClient().post(
        reverse("accounts:login"),
        {"username": u.developer.username, "password": "correct horse battery"},
    ),
    "accounts:logout": lambda c, w, u: c.post(reverse("accounts:logout")),
    "accounts:password_change": lambda c, w, u: c.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    ),
    "accounts:user_create": lambda c, w, u: c.post(
        reverse("accounts:user_create"), {"username": "newcomer", "role": "developer"}
    ),
    "accounts:user_role": lambda c, w, u: c.post(
        reverse("accounts:user_role", args=[u.developer.pk]), {"role": "auditor", "confirm": "yes"}
    ),
    "accounts:user_active": lambda c, w, u: c.post(
        reverse("accounts:user_active", args=[u.developer.pk]), {"active": "0"}
    ),
    "accounts:user_unlock": lambda c, w, u: c.post(
        reverse("accounts:user_unlock", args=[u.developer.pk])
    ),
    "accounts:user_password_reset": lambda c, w, u: c.post(
        reverse("accounts:user_password_reset", args=[u.developer.pk]), {"confirm": "yes"}
    ),
    "vault:create": lambda c, w, u: c.post(
        reverse("vault:create", args=["feishu"]),
        {
            "name": "n",
            "slug": "new-one",
            "environment": "test",
            "p_app_id": "cli_y",
            "p_app_secret": "another-secret-value",
        },
    ),
    "vault:edit": lambda c, w, u: c.post(
        reverse("vault:edit", args=["fs"]),
        {
            "name": "Renamed",
            "slug": "fs",
            "environment": "test",
            "p_app_id": "cli_x",
            "base_url": "https://127.0.0.1:9/unreachable",
        },
    ),
    "vault:test": lambda c, w, u: c.post(reverse("vault:test", args=["fs"])),
    "vault:reveal": lambda c, w, u: c.post(
        reverse("vault:reveal", args=["fs"]),
        {"field": "app_secret", "password": "correct horse battery"},
    ),
    "vault:toggle": lambda c, w, u: c.post(reverse("vault:toggle", args=["fs"]), {"enabled": "0"}),
    "vault:delete": lambda c, w, u: c.post(
        reverse("vault:delete", args=["fs"]), {"confirm_slug": "fs"}
    ),
    "tokens:keys": lambda c, w, u: c.post(
        reverse("tokens:keys"), {"name": "k2", "credentials": [w["credential"].pk]}
    ),
    "tokens:key_revoke": lambda c, w, u: c.post(
        reverse("tokens:key_revoke", args=[w["key"].pk]), {"confirm": "yes"}
    ),
    "tokens:refresh": lambda c, w, u: c.post(reverse("tokens:refresh", args=["fs"])),
    "tokens:cap_reset": lambda c, w, u: c.post(
        reverse("tokens:cap_reset", args=["fs"]), {"confirm": "yes"}
    ),
    "api-token-refresh": lambda c, w, u: CsrfClient().post(
        reverse("api-token-refresh", args=["fs"]),
        "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w['raw']}",
    ),
    "tokens:grant_revoke": lambda c, w, u: c.post(
        reverse("tokens:grant_revoke", args=["fs", _a_grant(w).pk]), {"confirm": "yes"}
    ),
    # The platform is unreachable here: the failed refresh is what is recorded.
    "api-user-token-refresh": lambda c, w, u: CsrfClient().post(
        reverse("api-user-token-refresh", args=["fs", _a_grant(w).user_id]),
        "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {_user_token_key(w)}",
    ),
    # A ticket needs the app's token; the platform is unreachable here: the failed token
    # fetch is what is recorded (a fetched ticket is audited: tests/tokens/test_tickets.py).
    "api-ticket-refresh": lambda c, w, u: CsrfClient().post(
        reverse("api-ticket-refresh", args=["fs", "jsapi"]),
        '{"rejected_ticket": "x"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w['raw']}",
    ),
    "api-jsapi-signature": lambda c, w, u: CsrfClient().post(
        reverse("api-jsapi-signature", args=["fs"]),
        '{"url": "https://app.example.com/"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w['raw']}",
    ),
    "audit:verify": lambda c, w, u: c.post(reverse("audit:verify")),
    "console:replay": lambda c, w, u: c.post(reverse("console:replay", args=[_a_call(c).pk])),
    "console:send": lambda c, w, u: c.post(
        reverse("console:send"),
        {"credential": "fs", "method": "GET", "path": "/open-apis/contact/v3/users"},
    ),
    "audit:lookup": lambda c, w, u: c.post(reverse("audit:lookup"), {"value": "x"}),
    "console:saved_save": lambda c, w, u: c.post(
        reverse("console:saved_save"),
        {
            "credential": "fs",
            "method": "GET",
            "path": "/open-apis/contact/v3/users",
            "save-name": "Users",
            "save-folder": "contact",
        },
    ),
    "console:saved_import": lambda c, w, u: c.post(
        reverse("console:saved_import"),
        {
            "collection": '{"info": {"schema": "https://schema.getpostman.com/json/collection/'
            'v2.1.0/collection.json"}, "item": [{"name": "Users", "request": {'
            '"method": "GET", "url": "{{fs_base_url}}/open-apis/contact/v3/users"}}]}'
        },
    ),
    "console:saved_delete": lambda c, w, u: c.post(
        reverse("console:saved_delete", args=[_a_saved(u).pk]), {"confirm": "yes"}
    ),
    "alerts:channel_new": lambda c, w, u: c.post(
        reverse("alerts:channel_new"),
        {"name": "Ops", "kind": "email", "email_to": "ops@example.com", "enabled": "on"},
    ),
    "alerts:channel_edit": lambda c, w, u: c.post(
        reverse("alerts:channel_edit", args=[_a_channel(u).pk]),
        {"name": "Renamed", "kind": "email", "email_to": "ops@example.com"},
    ),
    "alerts:channel_test": lambda c, w, u: c.post(
        reverse("alerts:channel_test", args=[_a_channel(u).pk])
    ),
    "alerts:channel_delete": lambda c, w, u: c.post(
        reverse("alerts:channel_delete", args=[_a_channel(u).pk]), {"confirm": "yes"}
    ),
}
# Read routes whose act is sensitive all the same.
AUDITED_READS = {
    "audit:export": lambda c, w, u: b"".join(
        c.get(reverse("audit:export", args=["csv"])).streaming_content
    ),
    "api-token": lambda c, w, u: _handout(w),
    "api-user-token": lambda c, w, u: _user_handout(w),
}


def _a_grant(world):
    from apps.tokens.models import UserGrant

    grant, _ = UserGrant.objects.get_or_create(credential=world["credential"], user_id="ou_a")
    UserGrant.objects.filter(pk=grant.pk).update(
        access_blob=grant.seal_access("u-token"),
        refresh_blob=grant.seal_refresh("ur-token"),
        version=1,
        expires_at=timezone.now() + timedelta(hours=1),
        refresh_at=timezone.now() + timedelta(minutes=50),
    )
    return grant


def _user_token_key(world) -> str:
    return client_key_create(name="people", credentials=[world["credential"]], user_tokens=True)[1]


def _user_handout(world):
    grant = _a_grant(world)
    response = CsrfClient().get(
        reverse("api-user-token", args=["fs", grant.user_id]),
        HTTP_AUTHORIZATION=f"Bearer {_user_token_key(world)}",
    )
    assert response.status_code == 200, response.content
    handouts_audit(before=timezone.now() + timedelta(minutes=3))


def _a_call(client):
    from apps.console.models import ConsoleCall
    from apps.vault.models import Credential

    return ConsoleCall.objects.create(
        credential=Credential.objects.get(slug="fs"),
        method="GET",
        url="x",
        request_spec={
            "method": "GET",
            "path": "/open-apis/contact/v3/users",
            "query": [],
            "headers": [],
            "body": None,
        },
    )


def _a_channel(users):
    from apps.alerts.models import Channel

    return Channel.objects.create(name="ops", kind="email", email_to="ops@example.com")


def _a_saved(users):
    from apps.console.models import SavedRequest

    return SavedRequest.objects.create(
        owner=users.admin,
        name="to delete",
        request_spec={"method": "GET", "path": "/", "query": [], "headers": [], "body": None},
    )


def _handout(world):
    from apps.tokens.models import AccessToken

    row, _ = AccessToken.objects.get_or_create(credential=world["credential"])
    AccessToken.objects.filter(pk=row.pk).update(
        value_blob=row.seal("t-token"),
        version=1,
        expires_at=timezone.now() + timedelta(hours=1),
        refresh_at=timezone.now() + timedelta(minutes=50),
    )
    response = CsrfClient().get(
        reverse("api-token", args=["fs"]), HTTP_AUTHORIZATION=f"Bearer {world['raw']}"
    )
    assert response.status_code == 200
    handouts_audit(before=timezone.now() + timedelta(minutes=3))


def test_every_post_route_is_listed(users):
    client = _admin(users)
    unlisted = []
    for name, params in _routes(get_resolver()):
        if name in NOT_AUDITED:
            continue
        url = reverse(name, kwargs={p: DUMMY[p] for p in params})
        if client.post(url).status_code != 405 and name not in ACTS:
            unlisted.append(name)
    assert unlisted == []


@pytest.mark.parametrize("name", sorted({**ACTS, **AUDITED_READS}))
def test_each_act_records_an_event(users, world, name):
    client = _admin(users)
    before = AuditEvent.objects.count()
    response = {**ACTS, **AUDITED_READS}[name](client, world, users)
    assert AuditEvent.objects.count() > before, (name, getattr(response, "content", b"")[:300])


def test_the_django_admin_reads_and_never_writes(db, make_user):
    """No change of users, roles, keys or credentials may bypass the services (and so the
    audit log): every model the admin shows is read-only, even for a superuser, and no
    POST through it changes anything."""
    from django.contrib import admin
    from django.test import RequestFactory

    from apps.accounts.models import User

    root = make_user("root", "admin", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/djadmin/")
    request.user = root
    for model, model_admin in admin.site._registry.items():
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
    victim = make_user("victim", "developer")
    client = CsrfClient()
    client.force_login(root)
    before = AuditEvent.objects.count()
    change = client.post(
        f"/djadmin/accounts/user/{victim.pk}/change/",
        {"username": "victim", "is_superuser": "on", "is_staff": "on"},
    )
    password = client.post(
        f"/djadmin/accounts/user/{victim.pk}/password/",
        {"password1": "x-new-pass-123", "password2": "x-new-pass-123"},
    )
    add = client.post("/djadmin/accounts/user/add/", {"username": "mallory"})
    assert {change.status_code, password.status_code, add.status_code} <= {403, 302}
    victim.refresh_from_db()
    assert not victim.is_superuser and not victim.check_password("x-new-pass-123")
    assert not User.objects.filter(username="mallory").exists()
    assert "/djadmin/axes/" not in client.get("/djadmin/").content.decode()
    assert AuditEvent.objects.count() == before  # nothing happened, so nothing to record
