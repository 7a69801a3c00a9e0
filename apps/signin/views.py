from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.audit.services import Actor, record
from apps.providers.registry import get_provider

from .context_processors import LABELS, ORDER
from .forms import PlatformSignInForm
from .models import PLATFORMS, PlatformSignIn
from .provider import callback_url


def _forms(data=None) -> list[dict]:
    held = {p.provider: p for p in PlatformSignIn.objects.select_related("credential")}
    rows = []
    for key in ORDER:
        current = held.get(key)
        initial = {
            "credential": current.credential_id if current and current.enabled else None,
            "default_role": current.default_role if current else "",
        }
        rows.append(
            {
                "key": key,
                "label": LABELS[key],
                "callback": callback_url(PLATFORMS[key]),
                "form": PlatformSignInForm(data, provider=key, prefix=key, initial=initial),
                "current": current,
                "identity_only": get_provider(key).user_oauth.identity_only,
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def platform_settings(request: HttpRequest) -> HttpResponse:
    """Which credential serves sign-in with each platform, and what a first sign-in gets."""
    rows = _forms(request.POST if request.method == "POST" else None)
    if request.method == "POST" and all(r["form"].is_valid() for r in rows):
        with transaction.atomic():
            for row in rows:
                _save(row, request)
        messages.success(request, _("Sign-in with the platforms is saved."))
        return redirect("signin:settings")
    status = 422 if request.method == "POST" else 200
    return render(request, "signin/settings.html", {"rows": rows}, status=status)


def _save(row: dict, request: HttpRequest) -> None:
    """One platform's choice, audited when it changed (credential, default role, on or off)."""
    data, current = row["form"].cleaned_data, row["current"]
    credential, role = data["credential"], data["default_role"] or ""
    was = (current.credential_id, current.default_role) if current and current.enabled else None
    now = (credential.pk, role) if credential else None
    if was == now:
        return
    if credential is None:
        PlatformSignIn.objects.filter(pk=current.pk).update(enabled=False)
    else:
        PlatformSignIn.objects.update_or_create(
            provider=row["key"],
            defaults={"credential": credential, "enabled": True, "default_role": role},
        )
    record(
        action="signin.platform_change",
        actor=Actor.user(request.user),
        request=request,
        target_type="credential",
        target_id=credential.slug if credential else "",
        details={
            "platform": row["key"],
            "enabled": credential is not None,
            "default_role": role or None,
        },
    )


def when_offered(platform_key: str, view):
    """allauth's view for a platform an admin enabled; otherwise a clear page, not an error."""

    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if PlatformSignIn.active(platform_key) is None:
            return render(
                request,
                "socialaccount/not_offered.html",
                {"label": LABELS[platform_key]},
                status=404,
            )
        return view(request, *args, **kwargs)

    guarded.csrf_exempt = getattr(view, "csrf_exempt", False)
    return guarded
