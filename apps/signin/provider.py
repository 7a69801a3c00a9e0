"""Sign-in with Feishu, DingTalk and WeCom on django-allauth's OAuth2 base.

allauth keeps what it is good at: the state (one use, bound to the browser's session), the
link between a person and their platform identity (SocialAccount), sign-up and the
connections page. Each platform's wire is its adapter's in apps/providers (the current OAuth:
Feishu's authen/v2 with PKCE rather than the authen/v1 endpoints allauth's own Feishu
provider calls, DingTalk's /v1.0/oauth2, WeCom's sign-in code read with the app's own token
from the token centre, for which allauth has no provider), sent through the one guarded
sender, never by requests straight from allauth. The app is an admin's choice of credential
(PlatformSignIn): its secret never leaves the vault for allauth's SocialApp."""

from __future__ import annotations

import base64
import hashlib
import secrets

from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter
from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from apps.audit.services import Actor
from apps.providers.base import ProviderError
from apps.providers.client import fetch_user_identity, fetch_user_token
from apps.tokens.services import TokenUnavailable, token_for_use

from .models import PlatformSignIn


def callback_url(provider_id: str) -> str:
    """What the platform's app must list as its redirect URL (SITE_URL based)."""
    return settings.SITE_URL.rstrip("/") + reverse(f"{provider_id}_callback")


def _sign_in(platform_key: str) -> PlatformSignIn:
    chosen = PlatformSignIn.active(platform_key)
    if chosen is None:
        raise OAuth2Error(f"sign-in with {platform_key} is not set up")
    return chosen


class PlatformAccount(ProviderAccount):
    def to_str(self) -> str:
        return self.account.extra_data.get("name") or self.account.uid


class PlatformAdapter(OAuth2Adapter):
    platform_key = ""
    access_token_url = ""  # the exchange is the platform adapter's, below

    @sensitive_variables("grant")
    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        """The code traded through the one sender: a user token, or (WeCom) who the member is."""
        credential = _sign_in(self.platform_key).credential
        platform, code = credential.platform, request.GET.get("code", "")[:512]
        internal = settings.CONSOLE_INTERNAL_TARGETS
        try:
            if platform.user_oauth.identity_only:
                who = fetch_user_identity(
                    platform,
                    base_url=credential.effective_base_url,
                    token=token_for_use(credential=credential, actor=Actor.system("sign-in")),
                    code=code,
                    internal=internal,
                    deadline=settings.TOKEN_FETCH_TIMEOUT,
                )
                return {"access_token": "-", "identity": vars(who)}
            grant = fetch_user_token(
                platform,
                base_url=credential.effective_base_url,
                creds=credential.adapter_values(),
                code=code,
                redirect_uri=callback_url(self.provider_id),
                code_verifier=pkce_code_verifier or "",
                internal=internal,
                deadline=settings.TOKEN_FETCH_TIMEOUT,
            )
        except (ProviderError, TokenUnavailable) as exc:
            raise OAuth2Error(_reason(exc)) from None
        self.did_fetch_access_token = True
        return {"access_token": grant.access_token, "expires_in": grant.expires_in}

    def complete_login(self, request, app, token, **kwargs):
        response = kwargs.get("response") or {}
        who = response.get("identity")
        if who is None:
            credential = _sign_in(self.platform_key).credential
            try:
                found = fetch_user_identity(
                    credential.platform,
                    base_url=credential.effective_base_url,
                    token=token.token,
                    internal=settings.CONSOLE_INTERNAL_TARGETS,
                    deadline=settings.TOKEN_FETCH_TIMEOUT,
                )
            except ProviderError as exc:
                raise OAuth2Error(_reason(exc)) from None
            who = vars(found)
        token.token = ""  # nothing of the user's token is kept (SOCIALACCOUNT_STORE_TOKENS off)
        data = {
            "user_id": who["user_id"],
            "name": who.get("name", ""),
            "union_id": who.get("union_id", ""),
        }
        return self.get_provider().sociallogin_from_response(request, data)


def _reason(exc: Exception) -> str:
    decoded = getattr(exc, "decoded", None)
    if decoded is not None and decoded.code:
        return f"{decoded.code} {decoded.message}".strip()[:300]
    return str(exc)[:300]


class PlatformProvider(OAuth2Provider):
    platform_key = ""
    account_class = PlatformAccount
    pkce_enabled_default = False

    def extract_uid(self, data) -> str:
        return str(data["user_id"])

    def extract_common_fields(self, data) -> dict:
        name = str(data.get("name") or "")[:150]
        return {"username": f"{self.platform_key}-{name or data['user_id']}", "first_name": name}

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        """To the platform's authorise page, built by its adapter; allauth keeps the state
        and the PKCE verifier in the session that started it."""
        try:
            chosen = _sign_in(self.platform_key)
        except OAuth2Error:
            from allauth.socialaccount.helpers import render_authentication_error

            return render_authentication_error(request, self, error="unknown")
        credential = chosen.credential
        oauth = credential.platform.user_oauth
        verifier = secrets.token_urlsafe(48) if oauth.pkce else None
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
            if verifier
            else ""
        )
        state = self.stash_redirect_state(
            request, process, next_url, data, pkce_code_verifier=verifier
        )
        url = credential.platform.authorize_url(
            credential.effective_base_url,
            credential.public_values,
            redirect_uri=callback_url(self.id),
            state=state,
            scopes=tuple(s for s in oauth.default_scopes if s != oauth.offline_scope),
            code_challenge=challenge,
        )
        return HttpResponseRedirect(url)


def _provider(key: str, label: str) -> type[PlatformProvider]:
    provider_id = f"{key}_signin"
    adapter = type(
        f"{key.title()}Adapter",
        (PlatformAdapter,),
        {"platform_key": key, "provider_id": provider_id},
    )
    return type(
        f"{key.title()}SignIn",
        (PlatformProvider,),
        {"id": provider_id, "name": label, "platform_key": key, "oauth2_adapter_class": adapter},
    )


FeishuSignIn = _provider("feishu", "飞书 Feishu")
DingTalkSignIn = _provider("dingtalk", "钉钉 DingTalk")
WeComSignIn = _provider("wecom", "企业微信 WeCom")

provider_classes = [FeishuSignIn, DingTalkSignIn, WeComSignIn]
