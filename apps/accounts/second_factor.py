"""Second factors (django-otp): a TOTP authenticator app and recovery codes for a lost phone.

A user has at most one confirmed authenticator; enrolling a new one replaces it. Recovery
codes are ten single-use codes, shown once when made and kept only as keyed digests (like
passwords, a database copy does not give them away). Wrong codes count like wrong passwords:
AXES_FAILURE_LIMIT in a row lock the second step for AXES_COOLOFF_TIME, on top of
django-otp's own back-off. Every act is announced (`user_changed`) and so audited."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from .models import Authenticator, User
from .signals import user_changed

RECOVERY_CODES = 10


def _digests(code: str) -> list[str]:
    """What a recovery code is kept as: a keyed digest (the SECRET_KEY's, and each fallback's
    while keys rotate), 16 hex characters as django-otp's token column holds."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return [
        salted_hmac("zhongkong.recovery-code", code, secret=key, algorithm="sha256").hexdigest()[
            :16
        ]
        for key in keys
    ]


def _match(user: User, code: str):
    """The user's device that accepts `code`: the authenticator takes the code itself, the
    recovery codes its digest (each device's own throttling applies)."""
    with transaction.atomic():  # each device locked while checked, as django-otp locks them
        for device in Authenticator.objects.devices_for_user(
            user, confirmed=True
        ).select_for_update():
            if device.verify_token(code):
                return device
        for device in StaticDevice.objects.devices_for_user(
            user, confirmed=True
        ).select_for_update():
            digests = _digests(code)
            kept = device.token_set.filter(token__in=digests).values_list("token", flat=True)
            if device.verify_token(kept.first() or digests[0]):  # spends it, or throttles
                return device
    return None


class SecondFactorLocked(Exception):
    """Too many wrong codes in a row; try again after the cool-off."""


def authenticator(user: User) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return bool(user.is_authenticated and authenticator(user) is not None)


# Whether the signed-in user has an authenticator, kept in their session from the moment
# they sign in (so that a page costs no query for it); set again when they add or remove one.
SESSION_KEY = "zk_second_factor"


def remember(request, user: User) -> bool:
    has = authenticator(user) is not None
    request.session[SESSION_KEY] = has
    return has


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        remember(request, user)


def remembered(request, user: User) -> bool:
    has = request.session.get(SESSION_KEY)
    return remember(request, user) if has is None else has


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_of(device: Authenticator) -> str:
    """The key as an authenticator app takes it by hand (base32, in groups of four)."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: Authenticator) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no inline style)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, dark="#111")


def enrolment_start(user: User) -> Authenticator:
    """A new, unconfirmed authenticator (any earlier unconfirmed one is dropped)."""
    with transaction.atomic():
        Authenticator.objects.filter(user=user, confirmed=False).delete()
        return Authenticator.start(user)


def _failure_key(user: User) -> str:
    return f"second-factor:failures:{user.pk}"


def _check_lock(user: User) -> None:
    if (cache.get(_failure_key(user)) or 0) >= settings.AXES_FAILURE_LIMIT:
        raise SecondFactorLocked


def _count_failure(user: User) -> int:
    key, window = _failure_key(user), int(settings.AXES_COOLOFF_TIME.total_seconds())
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=window)
        return 1


def clear_failures(user: User) -> None:
    cache.delete(_failure_key(user))


def lift_throttle(user: User) -> None:
    """An admin's Unlock: our count and django-otp's own back-off on each device."""
    clear_failures(user)
    for model in (Authenticator, StaticDevice):
        model.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )


def verify(user: User, code: str, *, pending: Authenticator | None = None, request=None):
    """The device that accepts `code` (the authenticator or a recovery code, which is then
    spent), or None; each attempt is audited. Raises SecondFactorLocked after too many wrong
    codes in a row."""
    _check_lock(user)
    code = "".join(str(code or "").split()).lower()[:32]
    device = None
    if code:
        device = (pending if pending.verify_token(code) else None) if pending else None
        if pending is None:
            device = _match(user, code)
    details = {"username": user.username, "purpose": "enrolment" if pending else "sign-in"}
    if device is None:
        failures = _count_failure(user)
        user_changed.send(
            User,
            action="auth.second_factor",
            user=user,
            by=user,
            details=details,
            outcome="failure",
            request=request,
        )
        if failures >= settings.AXES_FAILURE_LIMIT:
            user_changed.send(
                User,
                action="auth.second_factor_lockout",
                user=user,
                by=user,
                details=details,
                outcome="denied",
                request=request,
            )
        return None
    clear_failures(user)
    user_changed.send(
        User,
        action="auth.second_factor",
        user=user,
        by=user,
        details=details | {"method": method_of(device)},
        request=request,
    )
    return device


def method_of(device) -> str:
    return "recovery_code" if isinstance(device, StaticDevice) else "authenticator"


@transaction.atomic
def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_digests(c)[0]) for c in codes)
    return codes


@transaction.atomic
def enrolment_confirm(user: User, pending: Authenticator) -> list[str]:
    """Make the pending authenticator the user's (replacing any other) and return new
    recovery codes, shown once."""
    Authenticator.objects.filter(user=user).exclude(pk=pending.pk).delete()
    pending.confirmed = True
    pending.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    user_changed.send(
        User, action="mfa.enrol", user=user, by=user, details={"username": user.username}
    )
    return codes


@transaction.atomic
def recovery_codes_renew(user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    user_changed.send(
        User, action="mfa.recovery_codes", user=user, by=user, details={"username": user.username}
    )
    return codes


@transaction.atomic
def second_factor_remove(*, user: User, by: User | None) -> bool:
    """Remove the user's authenticator and recovery codes (theirs, or an admin's act for a
    user who lost their phone: `by` the admin, None from the command line)."""
    removed, _ = Authenticator.objects.filter(user=user).delete()
    removed_codes, _ = StaticDevice.objects.filter(user=user).delete()
    clear_failures(user)
    if removed or removed_codes:
        user_changed.send(
            User,
            action="mfa.remove",
            user=user,
            by=by,
            system="cli",
            details={"username": user.username, "by_self": by is not None and by.pk == user.pk},
        )
    return bool(removed or removed_codes)
