"""What the audit log hears from the floors below it: sign-in (Django's and django-axes'
signals) and changes to users (apps.accounts.signals.user_changed, sent inside the service's
transaction, so the event commits or rolls back with the change). The attempted username is
kept; a password never is."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.accounts.signals import user_changed

from .models import AuditEvent
from .services import Actor, record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    record(
        action="auth.login",
        actor=Actor.user(user),
        request=request,
        target_type="user",
        target_id=user.pk,
        # Set by the platform sign-in's adapter; a password otherwise.
        details={"method": getattr(request, "login_method", "password")},
    )


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(
            action="auth.logout",
            actor=Actor.user(user),
            request=request,
            target_type="user",
            target_id=user.pk,
        )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    record(
        action="auth.login_failed",
        actor=Actor.anonymous(username),
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        details={"username": username},
    )


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    username = str(username or "")[:150]
    record(
        action="auth.lockout",
        actor=Actor.anonymous(username),
        request=request,
        outcome=AuditEvent.Outcome.DENIED,
        details={"username": username},
    )


@receiver(user_changed)
def _user_changed(
    sender,
    *,
    action,
    user,
    by,
    system="bootstrap",
    details=None,
    outcome=AuditEvent.Outcome.SUCCESS,
    request=None,
    **kwargs,
) -> None:
    record(
        action=action,
        actor=Actor.user(by) if by else Actor.system(system),
        request=request,
        outcome=outcome,
        target_type="user",
        target_id=user.pk,
        details=details,
    )
