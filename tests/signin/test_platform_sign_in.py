"""Sign-in with Feishu (django-allauth, the wire through the platform adapter and the one
sender), with the emulated Feishu following its rules: a first sign-in makes an account with
no role, which waits until an admin grants one; the next sign-in finds the same account; a
reused or forged state, a code for another app, an identity call that fails: each refused
with a clear page and an audit event, nobody signed in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from apps.accounts.models import User
from apps.accounts.services import user_set_role
from apps.audit.models import AuditEvent
from apps.sandbox.models import SandboxFault
from apps.signin.models import PlatformSignIn
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db(transaction=True)
ALICE = "ou_" + f"{1:032x}"


@pytest.fixture
def feishu(token_credential):
    credential, app = token_credential("feishu", slug="feishu-sign-in")
    PlatformSignIn.objects.create(provider="feishu", credential=credential)
    return credential


def _to_platform(client: CsrfClient, platform: str = "feishu") -> str:
    """The sign-in page's button for the platform: where it sends the browser."""
    page = client.get("/accounts/login/").content.decode()
    assert f'data-testid="sign-in-{platform}"' in page
    leaving = client.post(f"/accounts/platforms/{platform}/login/")
    assert leaving.status_code == 302, leaving.content.decode()[:500]
    return leaving["Location"]


def _consent(
    authorize_url: str, *, user: str = ALICE, client_id: str | None = None, pkce: bool = True
) -> str:
    """The person on the emulated consent page: the callback path (with code and state)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["state"] and (not pkce or query["code_challenge"])  # allauth's state, PKCE
    if client_id is not None:
        query["client_id"] = client_id
    reply = requests.post(
        authorize_url.split("?")[0],
        data={**query, "user": user, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert reply.status_code == 302, reply.text
    back = urlsplit(reply.headers["Location"])
    return f"{back.path}?{back.query}"


def _signed_in_as(client: CsrfClient) -> User | None:
    from django.contrib.auth import get_user

    class Request:
        session = client.session

    user = get_user(Request())
    return user if user.is_authenticated else None


def test_a_first_sign_in_waits_for_a_role_and_the_next_finds_the_same_account(feishu, users):
    client = CsrfClient()
    back = _consent(_to_platform(client))
    landed = client.get(back)
    assert landed.status_code == 302
    person = _signed_in_as(client)
    assert person is not None and person.role is None and not person.has_usable_password()
    assert SocialAccount.objects.get(user=person).uid == ALICE
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/accounts/waiting/"
    assert client.get("/console/")["Location"] == "/accounts/waiting/"
    created = AuditEvent.objects.get(action="user.create", target_id=str(person.pk))
    assert created.details["via"] == "feishu" and created.details["uid"] == ALICE
    login = AuditEvent.objects.filter(action="auth.login").latest("seq")
    assert login.details["method"] == "feishu"

    user_set_role(user=person, role="developer", by=users.admin)
    assert client.get("/console/").status_code == 200

    again = CsrfClient()
    again.get(_consent(_to_platform(again)))
    assert _signed_in_as(again) == person
    assert User.objects.filter(socialaccount__provider="feishu_signin").count() == 1


def test_a_default_role_is_given_when_the_admin_chose_one(feishu, users):
    PlatformSignIn.objects.filter(provider="feishu").update(default_role="auditor")
    client = CsrfClient()
    client.get(_consent(_to_platform(client)))
    assert _signed_in_as(client).role == "auditor"


def _refused(answer, reason_part: str = "") -> None:
    html = answer.content.decode()
    assert 'data-testid="sign-in-failed"' in html, html[:500]
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("seq")
    assert event.details["method"] == "feishu" and event.outcome == "failure"
    assert reason_part in event.details["reason"], event.details
    code = parse_qs(answer.request["QUERY_STRING"]).get("code", [""])[0]
    assert code and code not in str(event.details)  # the OAuth code is never kept


def test_a_reused_or_forged_state_signs_nobody_in(feishu):
    client = CsrfClient()
    back = _consent(_to_platform(client))
    client.get(back)  # signs in
    stranger = CsrfClient()
    _refused(stranger.get(back), "state unknown")  # the same callback in another browser
    assert _signed_in_as(stranger) is None
    forged = CsrfClient()
    _refused(
        forged.get("/accounts/platforms/feishu/login/callback/?code=abc&state=forged"),
        "state unknown",
    )
    assert _signed_in_as(forged) is None
    assert User.objects.count() == 1


def test_a_code_for_another_app_is_refused(feishu, token_credential):
    other, app = token_credential("feishu", slug="feishu-other")
    client = CsrfClient()
    back = _consent(_to_platform(client), client_id=other.public_values["app_id"])
    _refused(client.get(back), "20024")  # Feishu's own code: another app's authorisation code
    assert _signed_in_as(client) is None and not SocialAccount.objects.exists()


def test_an_identity_endpoint_that_fails_signs_nobody_in(feishu):
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/authen/v1/user_info", kind="status", value=500
    )
    client = CsrfClient()
    _refused(client.get(_consent(_to_platform(client))), "failed: 500")
    assert _signed_in_as(client) is None and not SocialAccount.objects.exists()


def test_a_platform_an_admin_turned_off_offers_nothing(feishu):
    PlatformSignIn.objects.update(enabled=False)
    client = CsrfClient()
    assert 'data-testid="sign-in-feishu"' not in client.get("/accounts/login/").content.decode()
    off = client.post("/accounts/platforms/feishu/login/")
    assert off.status_code == 404 and 'data-testid="sign-in-not-offered"' in off.content.decode()


@pytest.mark.parametrize(
    ("platform", "person"), [("dingtalk", "dtunion0002"), ("wecom", "member02")]
)
def test_dingtalk_and_wecom_sign_in_the_same_way(token_credential, users, platform, person):
    """DingTalk: its /v1.0 OAuth code for a user token, then users/me. WeCom: its sign-in
    code read with the app's own token from the token centre (no user token at all)."""
    credential, _ = token_credential(platform, slug=f"{platform}-sign-in")
    PlatformSignIn.objects.create(provider=platform, credential=credential)
    client = CsrfClient()
    client.get(_consent(_to_platform(client, platform), user=person, pkce=False))
    signed_in = _signed_in_as(client)
    assert signed_in is not None and signed_in.role is None
    assert SocialAccount.objects.get(user=signed_in).uid == person
    assert (
        AuditEvent.objects.filter(action="auth.login").latest("seq").details["method"] == platform
    )
    again = CsrfClient()
    again.get(_consent(_to_platform(again, platform), user=person, pkce=False))
    assert _signed_in_as(again) == signed_in


def test_a_platform_sign_in_still_asks_for_the_second_factor(feishu):
    from apps.accounts.models import Authenticator

    client = CsrfClient()
    client.get(_consent(_to_platform(client)))
    person = _signed_in_as(client)
    Authenticator.objects.filter(pk=Authenticator.start(person).pk).update(confirmed=True)
    again = CsrfClient()
    landed = again.get(_consent(_to_platform(again)), follow=True)
    assert landed.redirect_chain[-1][0].startswith("/accounts/second-factor/verify/")


def test_an_admin_chooses_the_credential_and_the_change_is_audited(feishu, client_as, users):
    PlatformSignIn.objects.all().delete()
    assert client_as("developer").get("/accounts/platform-sign-in/").status_code == 403
    admin = client_as("admin")
    page = admin.get("/accounts/platform-sign-in/").content.decode()
    assert "/accounts/platforms/feishu/login/callback/" in page  # to register with the app
    saved = admin.post(
        "/accounts/platform-sign-in/",
        {"feishu-credential": feishu.pk, "feishu-default_role": "", "dingtalk-credential": ""},
    )
    assert saved.status_code == 302
    chosen = PlatformSignIn.objects.get()
    assert (chosen.provider, chosen.credential, chosen.enabled) == ("feishu", feishu, True)
    event = AuditEvent.objects.get(action="signin.platform_change")
    assert event.details == {"platform": "feishu", "enabled": True, "default_role": None}
    admin.post("/accounts/platform-sign-in/", {"feishu-credential": ""})
    assert not PlatformSignIn.objects.get().enabled
    wrong = admin.post("/accounts/platform-sign-in/", {"dingtalk-credential": feishu.pk})
    assert wrong.status_code == 422  # a Feishu credential cannot serve DingTalk


def test_a_person_links_and_unlinks_a_platform_identity(feishu, client_as, users):
    client = client_as("developer")
    linking = client.post("/accounts/platforms/feishu/login/", {"process": "connect"})
    client.get(_consent(linking["Location"]))
    account = SocialAccount.objects.get(user=users.developer)
    assert account.uid == ALICE
    assert AuditEvent.objects.get(action="user.identity_link").details["via"] == "feishu"
    page = client.get("/accounts/platforms/").content.decode()
    assert ALICE in page
    client.post("/accounts/platforms/", {"account": account.pk})
    assert not SocialAccount.objects.exists()
    assert AuditEvent.objects.get(action="user.identity_unlink").details["uid"] == ALICE
    stranger = CsrfClient()  # the identity no longer signs in as the developer
    stranger.get(_consent(_to_platform(stranger)))
    assert _signed_in_as(stranger) != users.developer
