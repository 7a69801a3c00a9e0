"""Two factors (django-otp): an authenticator app set up from a QR code and confirmed with a
code, ten recovery codes shown once, the second step after a password, wrong codes throttled
like wrong passwords, the sign-in policy that requires it (for admins or everyone), reveal
asking for the code too, an admin removing a lost one; every act audited."""

from __future__ import annotations

import base64
import importlib
import io
import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django_otp.oath import totp

from apps.accounts.models import Authenticator, SignInPolicy
from apps.audit.models import AuditEvent
from tests.conftest import CsrfClient
from tests.helpers import all_rows

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _code(device: Authenticator, *, ahead: int = 0) -> str:
    """The authenticator app's code now (`ahead`: a later step's, one not spent yet)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=6, drift=ahead)
    return f"{value:06d}"


def _sign_in(username: str) -> CsrfClient:
    client = CsrfClient()
    answer = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content.decode()[:500]
    return client


def _enrol(client: CsrfClient) -> tuple[Authenticator, list[str]]:
    started = client.post("/accounts/second-factor/", {"action": "start"})
    html = started.content.decode()
    assert started.status_code == 200 and 'data-testid="qr"' in html and "<svg" in html
    device = Authenticator.objects.get(confirmed=False)
    assert "no-store" in started["Cache-Control"]
    confirmed = client.post(
        "/accounts/second-factor/", {"action": "confirm", "code": _code(device)}
    )
    assert confirmed.status_code == 200, confirmed.content.decode()[:800]
    codes = (
        re.search(r'<pre id="recovery-codes"[^>]*>(.*?)</pre>', confirmed.content.decode(), re.S)
        .group(1)
        .split()
    )
    device.refresh_from_db()
    assert device.confirmed and len(codes) == 10
    return device, codes


@pytest.fixture
def dan(make_user):
    return make_user("dev-dan", "developer")


def test_enrolment_needs_a_right_code_and_shows_recovery_codes_once(dan):
    client = _sign_in("dev-dan")
    client.post("/accounts/second-factor/", {"action": "start"})
    wrong = client.post("/accounts/second-factor/", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 422 and not Authenticator.objects.filter(confirmed=True).exists()
    device, codes = _enrol(client)
    page = client.get("/accounts/second-factor/").content.decode()
    assert not any(c in page for c in codes) and "10" in page
    assert device.bin_key.hex() not in page
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "mfa.enrol" in actions


def test_signing_in_asks_for_the_code_before_anything_else(dan):
    device, _ = _enrol(_sign_in("dev-dan"))
    client = _sign_in("dev-dan")
    held = client.get("/console/")
    assert held.status_code == 302 and held["Location"].startswith(
        "/accounts/second-factor/verify/"
    )
    htmx = client.get("/console/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith("/accounts/second-factor/verify/")
    done = client.post(
        "/accounts/second-factor/verify/", {"code": _code(device, ahead=1), "next": "/console/"}
    )
    assert done.status_code == 302 and done["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    event = AuditEvent.objects.filter(action="auth.second_factor").latest("seq")
    assert event.outcome == "success" and event.details["method"] == "authenticator"


def test_a_recovery_code_works_once(dan):
    _, codes = _enrol(_sign_in("dev-dan"))
    client = _sign_in("dev-dan")
    assert client.post("/accounts/second-factor/verify/", {"code": codes[0]}).status_code == 302
    again = _sign_in("dev-dan")
    refused = again.post("/accounts/second-factor/verify/", {"code": codes[0]})
    assert refused.status_code == 422
    event = AuditEvent.objects.filter(action="auth.second_factor", outcome="success").latest("seq")
    assert event.details["method"] == "recovery_code"


def test_wrong_codes_are_throttled_like_wrong_passwords(dan, settings):
    device, _ = _enrol(_sign_in("dev-dan"))
    client = _sign_in("dev-dan")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert client.post("/accounts/second-factor/verify/", {"code": "123456"}).status_code == 422
    client.cookies["django_language"] = "en"
    locked = client.post("/accounts/second-factor/verify/", {"code": _code(device, ahead=1)})
    assert locked.status_code == 422 and "Too many wrong codes" in locked.content.decode()
    assert client.get("/console/").status_code == 302  # still only half signed in
    assert AuditEvent.objects.filter(action="auth.second_factor_lockout").exists()
    _sign_in("alice").post(f"/accounts/users/{dan.pk}/unlock/")  # an admin's Unlock lifts it
    code = _code(device, ahead=1)  # the enrolment's code was spent
    assert client.post("/accounts/second-factor/verify/", {"code": code}).status_code == 302


@pytest.fixture(autouse=True)
def alice(make_user):
    return make_user("alice", "admin")


def test_the_policy_sends_an_admin_without_a_second_factor_to_set_one_up(alice):
    SignInPolicy.objects.create(pk=1, second_factor="admins")
    client = _sign_in("alice")
    held = client.get("/credentials/")
    assert held.status_code == 302 and held["Location"].startswith("/accounts/second-factor/")
    page = client.get("/accounts/second-factor/").content.decode()
    assert 'data-testid="second-factor-required"' in page
    _enrol(client)
    assert client.get("/credentials/").status_code == 200


def test_the_policy_for_admins_leaves_developers_alone(dan):
    SignInPolicy.objects.create(pk=1, second_factor="admins")
    assert _sign_in("dev-dan").get("/console/").status_code == 200


def test_only_admins_set_the_policy_and_the_change_is_audited(alice, dan):
    assert (
        _sign_in("dev-dan")
        .post("/accounts/sign-in-policy/", {"second_factor": "everyone", "passwords": "everyone"})
        .status_code
        == 403
    )
    client = _sign_in("alice")
    assert (
        client.post(
            "/accounts/sign-in-policy/", {"second_factor": "nonsense", "passwords": "everyone"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/accounts/sign-in-policy/", {"second_factor": "everyone", "passwords": "everyone"}
        ).status_code
        == 302
    )
    assert SignInPolicy.current().second_factor == "everyone"
    event = AuditEvent.objects.get(action="signin.policy_change")
    assert event.details["second_factor"] == {"from": "optional", "to": "everyone"}


def test_an_admin_removes_a_lost_second_factor(alice, dan):
    _enrol(_sign_in("dev-dan"))
    admin = _sign_in("alice")
    asked = admin.post(f"/accounts/users/{dan.pk}/second-factor/")
    assert 'data-testid="confirm"' in asked.content.decode()
    assert Authenticator.objects.filter(user=dan).exists()
    admin.post(f"/accounts/users/{dan.pk}/second-factor/", {"confirm": "yes"})
    assert not Authenticator.objects.filter(user=dan).exists()
    assert _sign_in("dev-dan").get("/console/").status_code == 200
    event = AuditEvent.objects.get(action="mfa.remove")
    assert event.actor_label == "alice" and event.details["by_self"] is False


def test_reveal_asks_an_admin_with_a_second_factor_for_the_code(alice):
    from apps.vault.services import credential_create

    credential_create(
        by=alice,
        provider="feishu",
        name="x",
        slug="fx",
        environment="test",
        public={"app_id": "cli_x"},
        secrets={"app_secret": "the-app-secret-0123456789"},
    )
    client = _sign_in("alice")
    device, _ = _enrol(client)
    page = client.get("/credentials/fx/").content.decode()
    assert 'name="code"' in page
    without = client.post(
        "/credentials/fx/reveal/", {"field": "app_secret", "password": PASSWORD, "code": ""}
    )
    assert without.status_code == 422 and "the-app-secret" not in without.content.decode()
    shown = client.post(
        "/credentials/fx/reveal/",
        {"field": "app_secret", "password": PASSWORD, "code": _code(device, ahead=1)},  # unspent
    )
    assert shown.status_code == 200 and "the-app-secret-0123456789" in shown.content.decode()


def test_the_totp_secret_is_nowhere_but_the_enrolment_page(dan, caplog):
    client = _sign_in("dev-dan")
    device, codes = _enrol(client)
    key = device.bin_key.hex()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    audit = " ".join(str(e.details) for e in AuditEvent.objects.all())
    for value in (secret, key, *codes):
        assert value not in audit and value not in caplog.text
    assert settings.OTP_TOTP_ISSUER == "Zhongkong"
    rows = all_rows()  # django-otp's key column is empty; the key is sealed, with no hint
    assert secret not in rows and key not in rows and key.upper() not in rows
    assert Authenticator.objects.get(pk=device.pk).key == ""


def test_passwords_off_for_all_but_the_first_admin(alice, dan, make_user):
    """Once people sign in with a platform, an admin turns passwords off for everyone else:
    the first admin keeps a way in when a platform is down."""
    make_user("later-admin", "admin")
    admin = _sign_in("alice")
    admin.post(
        "/accounts/sign-in-policy/", {"second_factor": "optional", "passwords": "first_admin"}
    )
    assert SignInPolicy.current().passwords == "first_admin"
    event = AuditEvent.objects.get(action="signin.policy_change")
    assert event.details == {"passwords": {"from": "everyone", "to": "first_admin"}}
    for name in ("dev-dan", "later-admin"):
        refused = CsrfClient()
        refused.cookies["django_language"] = "en"
        answer = refused.post("/accounts/login/", {"username": name, "password": PASSWORD})
        assert answer.status_code == 200 and "is off for this account" in answer.content.decode()
        assert refused.get("/console/").status_code == 302  # not signed in
    denied = AuditEvent.objects.filter(action="auth.login_failed", outcome="denied")
    assert {e.details["username"] for e in denied} == {"dev-dan", "later-admin"}
    assert _sign_in("alice").get("/credentials/").status_code == 200


def test_a_page_asks_nothing_of_the_second_factor_tables_once_signed_in(dan):
    """The authenticator is remembered in the session at sign-in and the policy in the cache:
    a page costs no query for either."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _sign_in("dev-dan")
    client.get("/console/")
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/console/").status_code == 200
    asked = " ".join(q["sql"] for q in seen.captured_queries)
    assert "otp_totp" not in asked and "accounts_signinpolicy" not in asked
    SignInPolicy.objects.create(pk=1, second_factor="everyone", passwords="everyone")
    assert client.get("/console/")["Location"].startswith("/accounts/second-factor/")


def test_a_session_whose_authenticator_an_admin_removed_goes_on(alice, dan):
    device, _ = _enrol(_sign_in("dev-dan"))
    client = _sign_in("dev-dan")
    client.post("/accounts/second-factor/verify/", {"code": _code(device, ahead=1)})
    assert client.get("/console/").status_code == 200
    _sign_in("alice").post(f"/accounts/users/{dan.pk}/second-factor/", {"confirm": "yes"})
    landed = client.get("/console/", follow=True)
    assert landed.status_code == 200 and landed.redirect_chain[-1][0] == "/console/"


def test_recovery_codes_are_kept_as_keyed_digests_and_old_ones_are_converted(users, settings):
    import importlib

    from django.apps import apps as django_apps
    from django.db import connection
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from apps.accounts.second_factor import recovery_codes_renew, verify

    user = users.developer
    codes = recovery_codes_renew(user)
    kept = set(StaticToken.objects.values_list("token", flat=True))
    assert len(kept) == 10 and not kept & set(codes)
    assert all(re.fullmatch(r"[0-9a-f]{16}", t) for t in kept)
    assert verify(user, codes[0].upper()) is not None  # typed as it reads
    assert verify(user, codes[0]) is None  # spent
    StaticDevice.objects.update(throttling_failure_count=0)  # django-otp's back-off, lifted
    # A code kept plain before is converted by the migration, and still works once.
    device = StaticDevice.objects.get(user=user)
    StaticToken.objects.create(device=device, token="abcd2345")
    migration = importlib.import_module("apps.accounts.migrations.0005_recovery_codes_as_digests")
    migration.to_digests(django_apps, SimpleNamespace(connection=connection))
    assert not StaticToken.objects.filter(token="abcd2345").exists()
    assert verify(user, "abcd2345") is not None and verify(user, "abcd2345") is None
    StaticDevice.objects.update(throttling_failure_count=0)
    # Codes made under a key that is now a fallback still work while it is one.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert verify(user, codes[1]) is not None


def test_authenticator_keys_are_sealed_bound_to_their_device_and_rotate(dan, make_user, settings):
    """django-otp's key column stays empty: the key is sealed like the vault's secrets, with
    no hint, bound to its device (a sealed key copied to another device's row does not
    open), re-encrypted by `rotate_keys`; the migration seals keys kept before."""
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.core import crypto

    device = Authenticator.start(dan)
    other = Authenticator.start(make_user("dev-eve", "developer"))
    key = device.bin_key
    assert len(key) == 20 and TOTPDevice.objects.get(pk=device.pk).key == ""
    assert device.sealed_key.secret_hints == {"key": ""}
    other.sealed_key.secret_blobs = dict(device.sealed_key.secret_blobs)
    other.sealed_key.save()
    with pytest.raises(crypto.DecryptionError):
        _ = Authenticator.objects.get(pk=other.pk).bin_key
    settings.FIELD_ENCRYPTION_KEYS = [crypto.new_key("k9"), *settings.FIELD_ENCRYPTION_KEYS]
    other.sealed_key.delete()  # (the copy above cannot be re-encrypted: it does not open)
    call_command("rotate_keys", stdout=io.StringIO())
    rotated = Authenticator.objects.get(pk=device.pk)
    assert crypto.key_id_of(rotated.sealed_key.secret_blobs["key"]) == "k9"
    assert rotated.bin_key == key
    # A key kept in django-otp's column before is sealed by the migration, and back.
    plain = TOTPDevice.objects.create(user=make_user("dev-fay", "developer"), name="old")
    kept = plain.key
    migration = importlib.import_module("apps.accounts.migrations.0006_authenticator_keys_sealed")
    from django.apps import apps as django_apps
    from django.db import connection

    migration.seal(django_apps, SimpleNamespace(connection=connection))
    assert TOTPDevice.objects.get(pk=plain.pk).key == ""
    assert Authenticator.objects.get(pk=plain.pk).bin_key.hex() == kept
    assert kept not in all_rows()
    migration.unseal(django_apps, SimpleNamespace(connection=connection))
    assert TOTPDevice.objects.get(pk=plain.pk).key == kept
