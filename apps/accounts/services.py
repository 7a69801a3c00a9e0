"""Writes on users. Each service owns its transaction and announces the change inside it
(`user_changed`), which the audit log records in that same transaction."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Role, User
from .second_factor import SecondFactorLocked, has_second_factor, lift_throttle, verify
from .signals import user_changed


def generate_one_time_password() -> str:
    return secrets.token_urlsafe(12)


def _set_role(user: User, role: str) -> None:
    user.groups.set([Group.objects.get(name=Role(role).value)])
    user.__dict__.pop("_role_cache", None)


def _check_last_admin(user: User) -> None:
    admins = User.objects.filter(groups__name=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if user.role == Role.ADMIN and not admins.exists():
        raise ValidationError(_("At least one active admin must remain."))


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    role: str,
    by: User | None,
    password: str | None = None,
) -> tuple[User, str]:
    """Create a user with a one-time password (returned once, never stored in clear)."""
    one_time = password or generate_one_time_password()
    user = User.objects.create_user(
        username=username, email=email, password=one_time, must_change_password=password is None
    )
    _set_role(user, role)
    user_changed.send(
        User, action="user.create", user=user, by=by, details={"username": username, "role": role}
    )
    return user, one_time


@transaction.atomic
def user_set_role(*, user: User, role: str, by: User) -> User:
    old = user.role
    if old == role:
        return user
    if role != Role.ADMIN:
        _check_last_admin(user)
    _set_role(user, role)
    user_changed.send(
        User,
        action="user.role_change",
        user=user,
        by=by,
        details={"username": user.username, "from": old, "to": role},
    )
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    if user.is_active == active:
        return user
    if not active:
        if user.pk == by.pk:
            raise ValidationError(_("You cannot deactivate yourself."))
        _check_last_admin(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    user_changed.send(
        User,
        action="user.activate" if active else "user.deactivate",
        user=user,
        by=by,
        details={"username": user.username},
    )
    return user


def first_admin_file() -> Path:
    """Where bootstrap leaves the first admin's one-time password (owner-only, removed when
    that admin chooses their own password)."""
    return Path(settings.VAR_DIR) / "first-admin-password.txt"


def first_admin_file_write(username: str, one_time: str) -> Path:
    path = first_admin_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(
            f"Zhongkong's first admin\n"
            f"username: {username}\n"
            f"one-time password: {one_time}\n\n"
            "Sign in at /accounts/login/ and choose your own password; this file is then\n"
            "deleted. Lost it? `.venv/bin/python manage.py password_reset "
            f"{username}` prints a new one-time password.\n"
        )
    return path


@transaction.atomic
def user_password_changed(*, user: User) -> None:
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
        path = first_admin_file()
        if path.exists() and f"username: {user.username}\n" in path.read_text("utf-8"):
            path.unlink(missing_ok=True)  # the password in it no longer works
    user_changed.send(User, action="user.password_change", user=user, by=user)


# Re-entering one's password (to reveal a secret) has a throttle of its own: a mistyped
# password there must not lock the admin out of signing in.
REAUTH_LIMIT = 5
REAUTH_WINDOW = 15 * 60


class ReauthLocked(Exception):
    """Too many wrong passwords in a row for re-authentication; try again later."""


def _reauth_key(user: User) -> str:
    return f"reauth:failures:{user.pk}"


def user_reauthenticate(*, user: User, password: str, code: str = "") -> bool:
    """Whether `password` is the user's and, when they have a second factor, `code` is a
    valid one of theirs; raises ReauthLocked after REAUTH_LIMIT wrong passwords within
    REAUTH_WINDOW seconds, or after the second factor's own limit. Sign-in throttling
    (django-axes) is not involved."""
    key = _reauth_key(user)
    if (cache.get(key) or 0) >= REAUTH_LIMIT:
        raise ReauthLocked
    if user.check_password(password):
        cache.delete(key)
        if not has_second_factor(user):
            return True
        try:
            return verify(user, code) is not None
        except SecondFactorLocked:
            raise ReauthLocked from None
    if not cache.add(key, 1, timeout=REAUTH_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=REAUTH_WINDOW)
    return False


def _lift_throttles(user: User) -> None:
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.reset_attempts(username=user.get_username())
    cache.delete(_reauth_key(user))
    lift_throttle(user)


@transaction.atomic
def user_unlock(*, user: User, by: User) -> None:
    """Lift a sign-in lockout (django-axes) and the re-authentication throttle."""
    _lift_throttles(user)
    user_changed.send(
        User, action="user.unlock", user=user, by=by, details={"username": user.username}
    )


@transaction.atomic
def user_password_reset(*, user: User, by: User | None) -> str:
    """A new one-time password for `user`, returned once (only its hash is kept): they choose
    their own at the next sign-in; their sessions end and any lockout is lifted. `by` None
    is the command line (`manage.py password_reset`, for an admin who lost theirs)."""
    one_time = generate_one_time_password()
    user.set_password(one_time)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _lift_throttles(user)
    user_changed.send(
        User,
        action="user.password_reset",
        user=user,
        by=by,
        system="cli",
        details={"username": user.username},
    )
    return one_time


@transaction.atomic
def sign_in_policy_set(*, policy, before: dict, by: User) -> None:
    """Save the sign-in policy; each field that changed is audited from → to."""
    policy.save()
    changed = {
        name: {"from": was, "to": getattr(policy, name)}
        for name, was in before.items()
        if getattr(policy, name) != was
    }
    if changed:
        user_changed.send(User, action="signin.policy_change", user=by, by=by, details=changed)


def user_reset_link(*, user: User, by: User) -> str:
    """A link with which `user` chooses a new password themselves (PASSWORD_RESET_TIMEOUT;
    it stops working once used, since it is bound to the password it replaces). Returned
    once: nothing of it is kept. Audited."""
    path = reverse(
        "accounts:password_reset_confirm",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    with transaction.atomic():
        user_changed.send(
            User,
            action="user.password_reset_link",
            user=user,
            by=by,
            details={"username": user.username, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
        )
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def user_password_set_by_link(*, user: User) -> None:
    """A new password chosen through a reset link (an admin's or an e-mailed one)."""
    _lift_throttles(user)
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
    user_changed.send(
        User,
        action="user.password_change",
        user=user,
        by=user,
        details={"username": user.username, "through": "reset link"},
    )


@transaction.atomic
def user_reset_mailed(*, user: User) -> None:
    user_changed.send(
        User,
        action="user.password_reset_mail",
        user=user,
        by=None,
        system="password reset by e-mail",
        details={"username": user.username},
    )


@transaction.atomic
def user_set_role_initial(*, user: User, role: str, via: str, uid: str) -> None:
    """A person's first sign-in with a platform: their account exists now, with `role` (an
    admin's default for that platform) or none until an admin grants one."""
    if role:
        _set_role(user, role)
    user_changed.send(
        User,
        action="user.create",
        user=user,
        by=None,
        system=f"sign-in with {via}",
        details={"username": user.username, "role": role or None, "via": via, "uid": uid},
    )


def password_refused(*, username: str, request) -> None:
    """A right password for an account whose password sign-in the policy turned off."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        user_changed.send(
            User,
            action="auth.login_failed",
            user=user,
            by=None,
            system="sign-in policy",
            details={"username": username[:150], "reason": "password sign-in is off"},
            outcome="denied",
            request=request,
        )
