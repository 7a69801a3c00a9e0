"""No lost users: an admin hands a person a link with which they choose a new password
themselves (shown once, works once, audited), and where an e-mail server is configured a
person asks for one by e-mail, the answer the same whether the address is known or not."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from apps.audit.models import AuditEvent
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db
NEW = "a fresh passphrase 42"


def _choose(link_path: str) -> CsrfClient:
    visitor = CsrfClient()
    form = visitor.get(link_path, follow=True)
    assert 'data-testid="password-reset-confirm"' in form.content.decode()
    done = visitor.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    return visitor


def test_an_admins_link_lets_a_person_choose_a_password_once(client_as, users):
    admin = client_as("admin")
    page = admin.post(f"/accounts/users/{users.developer.pk}/password-link/", {"confirm": "yes"})
    html = page.content.decode()
    link = re.search(r'<code id="reset-link"[^>]*>([^<]+)</code>', html).group(1)
    assert "/accounts/reset/" in link
    assert link not in admin.get("/accounts/users/").content.decode()  # shown once
    path = urlsplit(link).path
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(list(AuditEvent.objects.values()))
    _choose(path)
    users.developer.refresh_from_db()
    assert users.developer.check_password(NEW)
    again = CsrfClient().get(path, follow=True)
    assert 'data-testid="link-invalid"' in again.content.decode()  # it worked once
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "details"))
    assert ("user.password_reset_link", {"username": "dev-dan", "hours": 24}) in actions
    assert any(a == "user.password_change" and d.get("through") == "reset link" for a, d in actions)
    signed_in = CsrfClient().post("/accounts/login/", {"username": "dev-dan", "password": NEW})
    assert signed_in.status_code == 302


def test_only_admins_make_links(client_as, users):
    for role in ("developer", "auditor"):
        answer = client_as(role).post(
            f"/accounts/users/{users.admin.pk}/password-link/", {"confirm": "yes"}
        )
        assert answer.status_code == 403


def test_a_forged_link_is_refused_clearly(users):
    page = CsrfClient().get("/accounts/reset/MQ/abc-123/", follow=True)
    assert page.status_code == 200 and 'data-testid="link-invalid"' in page.content.decode()


def test_forgot_password_by_email_only_where_email_is_configured(users, settings):
    settings.PASSWORD_RESET_BY_EMAIL = False
    assert CsrfClient().get("/accounts/password/forgot/").status_code == 404
    assert 'data-testid="forgot"' not in CsrfClient().get("/accounts/login/").content.decode()
    settings.PASSWORD_RESET_BY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert 'data-testid="forgot"' in CsrfClient().get("/accounts/login/").content.decode()
    users.developer.email = "dan@example.com"
    users.developer.save()
    known = CsrfClient().post("/accounts/password/forgot/", {"email": "dan@example.com"})
    unknown = CsrfClient().post("/accounts/password/forgot/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password/forgot/sent/"
    (message,) = mail.outbox
    assert message.to == ["dan@example.com"]
    path = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)
    _choose(path)
    assert AuditEvent.objects.filter(action="user.password_reset_mail").count() == 1
