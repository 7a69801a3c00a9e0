from __future__ import annotations

import binascii
import contextlib

from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from apps.core.models import SecretHolder


class Role(models.TextChoices):
    """The three human roles. Each is a Django group of the same name (data migration)."""

    ADMIN = "admin", _("Admin")
    DEVELOPER = "developer", _("Developer")
    AUDITOR = "auditor", _("Auditor")


class User(AbstractUser):
    must_change_password = models.BooleanField(
        default=False,
        help_text=_("Set for one-time passwords: the user must choose a new one at next login."),
    )

    @property
    def role(self) -> str | None:
        """The user's role (cached per instance); None for a user without one."""
        if not hasattr(self, "_role_cache"):
            names = {g.name for g in self.groups.all()} if self.pk else set()
            self._role_cache = next((r.value for r in Role if r.value in names), None)
        return self._role_cache

    def role_label(self) -> str:
        return Role(self.role).label if self.role else "—"


class SignInPolicy(models.Model):
    """The admins' sign-in rules (one row, pk 1): who must use a second factor."""

    class SecondFactor(models.TextChoices):
        OPTIONAL = "optional", _("Optional for everyone")
        ADMINS = "admins", _("Required for admins")
        EVERYONE = "everyone", _("Required for everyone")

    class Passwords(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        FIRST_ADMIN = (
            "first_admin",
            _("Only the first admin (everyone else signs in with a platform)"),
        )

    second_factor = models.CharField(
        max_length=16, choices=SecondFactor.choices, default=SecondFactor.OPTIONAL
    )
    passwords = models.CharField(
        max_length=16, choices=Passwords.choices, default=Passwords.EVERYONE
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"second factor: {self.second_factor}"

    CACHE_KEY = "zk:signin-policy"

    @classmethod
    def current(cls) -> SignInPolicy:
        """The policy, read on every signed-in request: from the cache (forgotten on each
        save; a minute at most elsewhere on the embedded per-process cache), the database
        when the cache cannot answer."""
        try:
            values = cache.get(cls.CACHE_KEY)
        except Exception:  # the cache is away: the database answers
            values = None
        if values is None:
            values = cls.objects.filter(pk=1).values("second_factor", "passwords").first() or {}
            with contextlib.suppress(Exception):  # the cache is away: read again next time
                cache.set(cls.CACHE_KEY, values, 60)
        return cls(pk=1, **values)

    def allows_password(self, user: User) -> bool:
        """Whether `user` may sign in with a password: everyone, or only the first admin (the
        account bootstrap made), who keeps a way in when a platform is down."""
        if self.passwords == self.Passwords.EVERYONE:
            return True
        first = User.objects.filter(groups__name=Role.ADMIN).order_by("date_joined", "pk").first()
        return first is not None and first.pk == user.pk

    def requires_second_factor(self, user: User) -> bool:
        if self.second_factor == self.SecondFactor.EVERYONE:
            return True
        return self.second_factor == self.SecondFactor.ADMINS and user.role == Role.ADMIN


@receiver([post_save, post_delete], sender=SignInPolicy)
def _policy_changed(sender, **kwargs) -> None:
    with contextlib.suppress(Exception):  # the cache is away: its entry expires in a minute
        cache.delete(SignInPolicy.CACHE_KEY)


class AuthenticatorKey(SecretHolder):
    """An authenticator's TOTP key, sealed like the vault's secrets (apps/core/crypto.py:
    AES-GCM bound to this row and its device; re-encrypted by `rotate_keys`) and kept with no
    hint. django-otp's own key column stays empty, so a database copy does not give away
    anyone's second factor."""

    aad_prefix = "authenticator"
    hinted = False

    device = models.OneToOneField(
        "otp_totp.TOTPDevice", on_delete=models.CASCADE, related_name="sealed_key"
    )

    def aad(self, field: str) -> str:
        return f"{self.aad_prefix}:{self.uid}:{self.device_id}:{field}"


class Authenticator(TOTPDevice):
    """django-otp's TOTP device reading its key from the sealed row (everything else, the
    code check, drift and replay refusal, is django-otp's)."""

    class Meta:
        proxy = True

    @property
    def bin_key(self) -> bytes:
        return binascii.unhexlify(self.sealed_key.secret_values()["key"])

    @classmethod
    def start(cls, user: User) -> Authenticator:
        """A new, unconfirmed authenticator with a fresh sealed key."""
        device = cls.objects.create(user=user, name="authenticator", confirmed=False, key="")
        sealed = AuthenticatorKey(device=device)
        sealed.set_secret("key", random_hex(20))
        sealed.save()
        return device
