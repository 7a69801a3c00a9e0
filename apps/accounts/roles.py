"""Server-side role checks: every view declares the roles that may call it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from .models import Role


def ensure_roles() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def role_required(*roles: str) -> Callable:
    """Allow only signed-in, active users holding one of `roles`; 403 for everyone else.

    Anonymous users go to the login page (an htmx request gets an HX-Redirect, so the
    login page replaces the whole page instead of landing inside a fragment).
    """
    allowed = frozenset(Role(r).value for r in roles)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                if getattr(request, "htmx", False):
                    login = redirect_to_login(request.get_full_path())
                    return HttpResponseClientRedirect(login["Location"])
                return redirect_to_login(request.get_full_path())
            if user.is_active and user.role is None:  # signed up, waiting for an admin
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(reverse("accounts:waiting"))
                return redirect("accounts:waiting")
            if not user.is_active or user.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed  # read by the tests that walk the URL conf
        return wrapper

    return decorator


ANY_ROLE = (Role.ADMIN, Role.DEVELOPER, Role.AUDITOR)
