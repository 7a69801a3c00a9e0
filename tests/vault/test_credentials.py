from __future__ import annotations

import logging

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.audit.services import fingerprint
from apps.core import crypto
from apps.vault.checks import key_canary_check
from apps.vault.models import Credential
from apps.vault.services import credential_create, ensure_key_canary
from tests.helpers import all_rows

pytestmark = pytest.mark.django_db

CANARY = "CANARY-app-secret-5f1c9e2a77b04d1e"


def _form(**overrides):
    data = {
        "name": "Feishu prod",
        "slug": "feishu-prod",
        "environment": "production",
        "base_url": "",
        "enabled": "on",
        "notes": "",
        "p_app_id": "cli_a1b2c3",
        "p_app_secret": CANARY,
        "p_token_kind": "tenant_access_token",
    }
    data.update(overrides)
    return data


def test_canary_secret_saved_through_the_ui_is_nowhere_in_plain_text(client_as, users, caplog):
    client = client_as("admin")
    seen = []
    with caplog.at_level(logging.DEBUG):
        created = client.post("/credentials/new/feishu/", _form())
        assert created.status_code == 302, created.content.decode()[:2000]
        credential = Credential.objects.get(slug="feishu-prod")
        for url in (
            "/credentials/",
            "/credentials/feishu-prod/",
            "/credentials/feishu-prod/edit/",
            "/credentials/?platform=feishu",
        ):
            seen.append(client.get(url).content.decode())
            seen.append(client.get(url, HTTP_HX_REQUEST="true").content.decode())
        # An invalid edit re-renders the form: the secret typed in is not echoed back.
        invalid = client.post(
            "/credentials/feishu-prod/edit/", _form(slug="bad slug!", p_app_secret=CANARY + "-new")
        )
        assert invalid.status_code == 422
        seen.append(invalid.content.decode())
        seen.append(client_as("developer").get("/credentials/").content.decode())
    assert all(CANARY not in page for page in seen)
    assert CANARY + "-new" not in seen[-2]
    assert CANARY not in all_rows()
    assert CANARY not in caplog.text
    event = AuditEvent.objects.get(action="credential.create")
    assert event.secret_fingerprints == {"app_secret": fingerprint(CANARY)}
    assert credential.secret_values() == {"app_secret": CANARY}
    assert "••••••••" in seen[2] and CANARY[-4:] in seen[2]  # admin sees the last four


def test_two_saves_of_the_same_secret_differ(users):
    one = credential_create(
        by=users.admin,
        provider="feishu",
        name="a",
        slug="a",
        environment="test",
        public={"app_id": "x"},
        secrets={"app_secret": CANARY},
    )
    two = credential_create(
        by=users.admin,
        provider="feishu",
        name="b",
        slug="b",
        environment="test",
        public={"app_id": "x"},
        secrets={"app_secret": CANARY},
    )
    assert one.secret_blobs["app_secret"] != two.secret_blobs["app_secret"]


def test_a_ciphertext_copied_between_rows_fails_to_decrypt(users):
    one = credential_create(
        by=users.admin,
        provider="feishu",
        name="a",
        slug="a",
        environment="test",
        public={},
        secrets={"app_secret": "one"},
    )
    two = credential_create(
        by=users.admin,
        provider="feishu",
        name="b",
        slug="b",
        environment="test",
        public={},
        secrets={"app_secret": "two"},
    )
    two.secret_blobs["app_secret"] = one.secret_blobs["app_secret"]
    with pytest.raises(crypto.DecryptionError):
        two.secret_values()


def test_invalid_form_keeps_what_was_typed_except_secrets(client_as):
    response = client_as("admin").post(
        "/credentials/new/feishu/", _form(slug="no spaces allowed", p_app_id="")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="Feishu prod"' in html and 'value="no spaces allowed"' in html
    assert html.count('class="field-error"') >= 2
    assert CANARY not in html
    assert not Credential.objects.exists()


def test_edit_audits_changed_field_names_not_values(client_as, users):
    client = client_as("admin")
    client.post("/credentials/new/feishu/", _form())
    response = client.post(
        "/credentials/feishu-prod/edit/",
        _form(name="Feishu production", p_app_secret="", notes="on-call"),
    )
    assert response.status_code == 302
    credential = Credential.objects.get(slug="feishu-prod")
    assert credential.secret_values() == {"app_secret": CANARY}  # empty keeps the stored one
    event = AuditEvent.objects.get(action="credential.update")
    assert event.details["changed"] == ["name", "notes"]
    client.post("/credentials/feishu-prod/edit/", _form(p_app_secret="replacement-secret-value"))
    event = AuditEvent.objects.filter(action="credential.update").order_by("-seq").first()
    assert "secret.app_secret" in event.details["changed"]
    assert "replacement" not in str(event.details)
    assert (
        Credential.objects.get(slug="feishu-prod").secret_values()["app_secret"]
        == "replacement-secret-value"
    )


def test_reveal_needs_the_password_and_is_audited(client_as, users):
    client = client_as("admin")
    client.post("/credentials/new/feishu/", _form())
    wrong = client.post(
        "/credentials/feishu-prod/reveal/",
        {"field": "app_secret", "password": "nope"},
        HTTP_HX_REQUEST="true",
    )
    assert wrong.status_code == 422 and CANARY not in wrong.content.decode()
    right = client.post(
        "/credentials/feishu-prod/reveal/",
        {"field": "app_secret", "password": "correct horse battery"},
        HTTP_HX_REQUEST="true",
    )
    assert right.status_code == 200 and CANARY in right.content.decode()
    assert "no-store" in right["Cache-Control"]
    events = list(AuditEvent.objects.filter(action="credential.reveal").order_by("seq"))
    assert [e.outcome for e in events] == ["denied", "success"]
    assert events[1].secret_fingerprints == {"app_secret": fingerprint(CANARY)}


@pytest.mark.parametrize("role", ["developer", "auditor"])
def test_non_admins_cannot_reach_edit_reveal_test_or_delete(client_as, users, role):
    credential_create(
        by=users.admin,
        provider="feishu",
        name="a",
        slug="shared",
        environment="test",
        public={"app_id": "x"},
        secrets={"app_secret": CANARY},
        shared_with_developers=True,
    )
    client = client_as(role)
    for method, url, data in [
        ("get", "/credentials/new/", None),
        ("get", "/credentials/new/feishu/", None),
        ("post", "/credentials/new/feishu/", _form(slug="sneaky")),
        ("get", "/credentials/shared/edit/", None),
        ("post", "/credentials/shared/edit/", _form()),
        ("post", "/credentials/shared/test/", {}),
        (
            "post",
            "/credentials/shared/reveal/",
            {"field": "app_secret", "password": "correct horse battery"},
        ),
        ("post", "/credentials/shared/enabled/", {"enabled": "0"}),
        ("get", "/credentials/shared/delete/", None),
        ("post", "/credentials/shared/delete/", {"confirm_slug": "shared"}),
    ]:
        response = (
            getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        )
        assert response.status_code == 403, (url, response.status_code)
        assert CANARY not in response.content.decode()
    assert Credential.objects.get(slug="shared").enabled
    assert not Credential.objects.filter(slug="sneaky").exists()


def test_developers_see_only_what_is_shared_with_them_and_no_secret(client_as, users):
    shared = credential_create(
        by=users.admin,
        provider="feishu",
        name="Shared one",
        slug="shared",
        environment="test",
        public={"app_id": "x"},
        secrets={"app_secret": CANARY},
        allowed_users=[users.developer],
    )
    credential_create(
        by=users.admin,
        provider="feishu",
        name="Private one",
        slug="private",
        environment="test",
        public={"app_id": "y"},
        secrets={"app_secret": "z" * 20},
    )
    client = client_as("developer")
    listing = client.get("/credentials/").content.decode()
    assert "Shared one" in listing and "Private one" not in listing
    detail = client.get(f"/credentials/{shared.slug}/")
    assert detail.status_code == 200
    assert CANARY not in detail.content.decode() and CANARY[-4:] not in detail.content.decode()
    assert client.get("/credentials/private/").status_code == 404
    assert client_as("auditor").get("/credentials/").status_code == 403


def test_list_filters_and_query_count(client_as, users, django_assert_max_num_queries):
    for i in range(12):
        credential_create(
            by=users.admin,
            provider="feishu" if i % 2 else "wechat",
            name=f"c{i}",
            slug=f"c{i}",
            environment="test" if i % 3 else "production",
            public={},
            secrets={},
            allowed_users=[users.developer],
        )
    client = client_as("admin")
    with django_assert_max_num_queries(8):
        page = client.get("/credentials/?platform=feishu&environment=test")
    names = [c.slug for c in page.context["credentials"]]
    assert names and all(Credential.objects.get(slug=n).provider == "feishu" for n in names)
    assert all(Credential.objects.get(slug=n).environment == "test" for n in names)


def test_delete_needs_the_slug_and_keeps_the_audit_subject(client_as, users):
    client = client_as("admin")
    client.post("/credentials/new/feishu/", _form())
    assert (
        client.post("/credentials/feishu-prod/delete/", {"confirm_slug": "nope"}).status_code == 422
    )
    assert (
        client.post("/credentials/feishu-prod/delete/", {"confirm_slug": "feishu-prod"}).status_code
        == 302
    )
    assert client.get("/credentials/feishu-prod/").status_code == 404
    gone = Credential.objects.get(name="Feishu prod")
    assert gone.deleted_at is not None and gone.secret_blobs == {}
    assert AuditEvent.objects.get(action="credential.delete").target_id == "feishu-prod"
    # The slug is free again.
    assert client.post("/credentials/new/feishu/", _form()).status_code == 302


def test_enable_disable_is_audited(client_as, users):
    client = client_as("admin")
    client.post("/credentials/new/feishu/", _form())
    client.post("/credentials/feishu-prod/enabled/", {"enabled": "0"})
    assert not Credential.objects.get(slug="feishu-prod").enabled
    client.post("/credentials/feishu-prod/enabled/", {"enabled": "1"})
    assert list(
        AuditEvent.objects.filter(action__in=["credential.enable", "credential.disable"])
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["credential.disable", "credential.enable"]


def test_base_url_must_be_https_unless_it_is_the_sandbox(client_as):
    client = client_as("admin")
    plain = client.post("/credentials/new/feishu/", _form(base_url="http://open.feishu.cn"))
    assert plain.status_code == 422
    elsewhere = client.post(
        "/credentials/new/feishu/", _form(base_url="http://evil.example/sandbox/feishu")
    )
    assert elsewhere.status_code == 422
    sandbox = client.post(
        "/credentials/new/feishu/", _form(base_url="http://127.0.0.1:8000/sandbox/feishu")
    )
    assert sandbox.status_code == 302


K1, K2 = crypto.new_key("k1"), crypto.new_key("k2")


def test_rotation_resumes_and_a_second_run_changes_nothing(settings, users, capsys):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    ensure_key_canary()
    for i in range(3):
        credential_create(
            by=users.admin,
            provider="feishu",
            name=f"c{i}",
            slug=f"c{i}",
            environment="test",
            public={},
            secrets={"app_secret": f"secret-{i}"},
        )
    settings.FIELD_ENCRYPTION_KEYS = [K2, K1]
    call_command("rotate_keys", "--max-rows", "1")  # interrupted after one row
    assert "stopped after 1 rows" in capsys.readouterr().out
    call_command("rotate_keys")
    assert "2 rows re-encrypted" in capsys.readouterr().out
    before = dict(Credential.objects.values_list("slug", "secret_blobs"))
    call_command("rotate_keys")
    assert "0 rows re-encrypted" in capsys.readouterr().out
    assert dict(Credential.objects.values_list("slug", "secret_blobs")) == before
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    assert [c.secret_values()["app_secret"] for c in Credential.objects.order_by("slug")] == [
        "secret-0",
        "secret-1",
        "secret-2",
    ]
    assert key_canary_check() == []


def test_system_check_fails_when_keys_cannot_decrypt_the_canary(settings):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    ensure_key_canary()
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    errors = key_canary_check()
    assert [e.id for e in errors] == ["vault.E002"]
    assert "key 'k1'" in errors[0].msg


def test_mistyped_reveal_passwords_pause_reveals_but_never_lock_sign_in(client_as, users):
    from django.core.cache import cache

    from tests.conftest import CsrfClient

    cache.clear()
    admin = client_as("admin")
    admin.post("/credentials/new/feishu/", _form())
    for _ in range(6):
        paused = admin.post(
            "/credentials/feishu-prod/reveal/",
            {"field": "app_secret", "password": "nope"},
            HTTP_HX_REQUEST="true",
        )
    assert "暂停 15 分钟" in paused.content.decode()
    right = admin.post(
        "/credentials/feishu-prod/reveal/",
        {"field": "app_secret", "password": "correct horse battery"},
        HTTP_HX_REQUEST="true",
    )
    assert CANARY not in right.content.decode()  # paused, even with the right password
    # Signing in is not affected by the reveal throttle.
    signed_in = CsrfClient().post(
        "/accounts/login/", {"username": users.admin.username, "password": "correct horse battery"}
    )
    assert signed_in.status_code == 302
    # Another admin lifts the pause; the unlock is audited.
    from apps.accounts.services import user_create

    other, password = user_create(
        username="second-admin",
        email="",
        role="admin",
        by=users.admin,
        password="another long passphrase",
    )
    second = client_as(None)
    second.force_login(other)
    assert (
        second.post(f"/accounts/users/{users.admin.pk}/unlock/", HTTP_HX_REQUEST="true").status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="user.unlock", target_id=str(users.admin.pk)).exists()
    again = admin.post(
        "/credentials/feishu-prod/reveal/",
        {"field": "app_secret", "password": "correct horse battery"},
        HTTP_HX_REQUEST="true",
    )
    assert CANARY in again.content.decode()


def test_unlock_lifts_a_sign_in_lockout(client_as, users, make_user):
    from tests.conftest import CsrfClient

    make_user("locked-lee", "developer", password="a long passphrase 9")
    for _ in range(5):
        CsrfClient().post("/accounts/login/", {"username": "locked-lee", "password": "wrong"})
    assert (
        CsrfClient()
        .post("/accounts/login/", {"username": "locked-lee", "password": "a long passphrase 9"})
        .status_code
        == 429
    )
    lee = users.admin.__class__.objects.get(username="locked-lee")
    client_as("admin").post(f"/accounts/users/{lee.pk}/unlock/", HTTP_HX_REQUEST="true")
    assert (
        CsrfClient()
        .post("/accounts/login/", {"username": "locked-lee", "password": "a long passphrase 9"})
        .status_code
        == 302
    )
