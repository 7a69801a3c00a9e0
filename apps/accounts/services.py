"""Writes on users. Each service owns its transaction and records its audit event."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import Actor, record

from .models import Role, User


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
def user_create(*, username: str, email: str, role: str, by: User | None,
                password: str | None = None, request=None) -> tuple[User, str]:
    """Create a user with a one-time password (returned once, never stored in clear)."""
    one_time = password or generate_one_time_password()
    user = User.objects.create_user(username=username, email=email, password=one_time,
                                    must_change_password=password is None)
    _set_role(user, role)
    record(action="user.create", actor=Actor.user(by) if by else Actor.system("bootstrap"),
           request=request, target_type="user", target_id=user.pk,
           details={"username": username, "role": role})
    return user, one_time


@transaction.atomic
def user_set_role(*, user: User, role: str, by: User, request=None) -> User:
    old = user.role
    if old == role:
        return user
    if role != Role.ADMIN:
        _check_last_admin(user)
    _set_role(user, role)
    record(action="user.role_change", actor=Actor.user(by), request=request, target_type="user",
           target_id=user.pk, details={"username": user.username, "from": old, "to": role})
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User, request=None) -> User:
    if user.is_active == active:
        return user
    if not active:
        if user.pk == by.pk:
            raise ValidationError(_("You cannot deactivate yourself."))
        _check_last_admin(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(action="user.activate" if active else "user.deactivate", actor=Actor.user(by),
           request=request, target_type="user", target_id=user.pk,
           details={"username": user.username})
    return user


@transaction.atomic
def user_password_changed(*, user: User, request=None) -> None:
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
    record(action="user.password_change", actor=Actor.user(user), request=request,
           target_type="user", target_id=user.pk)
