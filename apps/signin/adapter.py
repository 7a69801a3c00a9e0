"""allauth's adapters: the app comes from the credential an admin chose (never from settings
files), people sign up only through a platform an admin enabled, a first sign-in gets no role
(or the default role the admin set for that platform), and every failure is audited."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.db import transaction

from apps.accounts.services import user_set_role_initial
from apps.audit.models import AuditEvent
from apps.audit.services import Actor, record

from .models import PLATFORMS, PlatformSignIn

KEYS = {provider_id: key for key, provider_id in PLATFORMS.items()}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # accounts are made by admins, or by a platform sign-in an admin enabled

    def is_reauthentication_required(self, app=None) -> bool:
        return False  # re-authentication is Zhongkong's own (password and code, for reveals)


class SignInAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        """One app per platform, naming the credential an admin chose (or none yet): allauth
        needs neither the app's id nor its secret, the exchange being the platform adapter's.
        A platform turned off keeps its app here, so that identities linked with it are still
        listed and can be unlinked; signing in with it is refused (views.when_offered)."""
        chosen = {p.provider_id: p for p in PlatformSignIn.objects.select_related("credential")}
        apps = []
        for provider_id in PLATFORMS.values():
            row = chosen.get(provider_id)
            name = row.credential.slug if row else provider_id
            if provider in (None, provider_id) and client_id in (None, name):
                apps.append(SocialApp(provider=provider_id, name=name, client_id=name))
        return apps

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return PlatformSignIn.active(KEYS[sociallogin.account.provider]) is not None

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def pre_social_login(self, request, sociallogin) -> None:
        request.login_method = KEYS.get(sociallogin.account.provider, "platform")

    @transaction.atomic
    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        key = KEYS[sociallogin.account.provider]
        chosen = PlatformSignIn.active(key)
        user_set_role_initial(
            user=user,
            role=chosen.default_role if chosen else "",
            via=key,
            uid=sociallogin.account.uid,
        )
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        record(
            action="auth.login_failed",
            actor=Actor.anonymous(""),
            request=request,
            outcome=AuditEvent.Outcome.FAILURE,
            details={
                "method": KEYS.get(getattr(provider, "id", ""), "platform"),
                "error": str(error or "")[:64],
                "reason": str(exception)[:300]
                if exception
                else (
                    "state unknown or already used: no sign-in was started in this browser"
                    if extra_context and "state_id" in extra_context
                    else ""
                ),
            },
        )
