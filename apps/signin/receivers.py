"""A person's platform identities linked and unlinked, told to the audit log (through
accounts' user_changed, as every change of a user is)."""

from __future__ import annotations

from allauth.socialaccount.signals import social_account_added, social_account_removed
from django.dispatch import receiver

from apps.accounts.models import User
from apps.accounts.signals import user_changed

from .adapter import KEYS


def _told(action: str, request, account) -> None:
    user_changed.send(
        User,
        action=action,
        user=account.user,
        by=request.user if request.user.is_authenticated else account.user,
        details={"via": KEYS.get(account.provider, account.provider), "uid": account.uid},
        request=request,
    )


@receiver(social_account_added)
def _linked(sender, request, sociallogin, **kwargs) -> None:
    _told("user.identity_link", request, sociallogin.account)


@receiver(social_account_removed)
def _unlinked(sender, request, socialaccount, **kwargs) -> None:
    _told("user.identity_unlink", request, socialaccount)
