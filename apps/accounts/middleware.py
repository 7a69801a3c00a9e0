from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from .models import SignInPolicy
from .second_factor import remembered


def _away(request, name: str):
    target = reverse(name)
    if request.method == "GET" and not getattr(request, "htmx", False):
        target += "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request"):
        return HttpResponseClientRedirect(target)
    return redirect(target)


def _free(request, *names: str) -> bool:
    allowed = {reverse(n) for n in (*names, "accounts:logout", "set_language")}
    return request.path in allowed or request.path.startswith("/static/")


class SecondFactorMiddleware:
    """A user with an authenticator is only half signed in until they give a code (or a
    recovery code); a user the sign-in policy requires one of, and who has none, can do
    nothing but set one up. Whatever way they signed in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if remembered(request, user):
                if not user.is_verified():
                    request.signing_in = True  # the pages show no navigation meanwhile
                    if not _free(request, "accounts:second_factor_verify"):
                        return _away(request, "accounts:second_factor_verify")
            elif SignInPolicy.current().requires_second_factor(user):
                request.signing_in = True
                if not _free(request, "accounts:second_factor", "accounts:password_change"):
                    return _away(request, "accounts:second_factor")
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A user with a one-time password can do nothing but choose a new one (or log out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {
                reverse("accounts:password_change"),
                reverse("accounts:logout"),
                reverse("set_language"),
            }
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("accounts:password_change")
        return self.get_response(request)
