from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.audit.models import AuditEvent
from apps.audit.services import Actor
from apps.core.confirm import confirm_first
from apps.vault.models import Credential

from . import services
from .forms import ClientKeyForm
from .models import AccessToken, ClientKey
from .selectors import token_rows

ADMIN, DEVELOPER = Role.ADMIN, Role.DEVELOPER


@require_GET
@role_required(ADMIN, DEVELOPER)
def token_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "tokens/list.html", {"rows": token_rows(request.user), "now": timezone.now()}
    )


def _credential(request: HttpRequest, slug: str) -> Credential:
    credential = Credential.objects.visible_to(request.user).filter(slug=slug).first()
    if credential is None or not credential.platform.uses_token_for(credential.public_values):
        raise Http404
    return credential


@require_GET
@role_required(ADMIN, DEVELOPER)
def token_detail(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    token = AccessToken.objects.filter(credential=credential).first()
    history = AuditEvent.objects.filter(
        target_type="credential", target_id=credential.slug, action="token.refresh"
    ).order_by("-seq")[:25]
    return render(
        request,
        "tokens/detail.html",
        {
            "credential": credential,
            "token": token,
            "history": history,
            "now": timezone.now(),
            "policy": credential.platform.refresh_policy,
        },
    )


@require_POST
@role_required(ADMIN)
def token_refresh_now(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    try:
        services.token_refresh(
            credential_id=credential.pk, force=True, reason="manual", actor=Actor.user(request.user)
        )
    except services.TokenUnavailable:
        pass  # the failure is on the row, shown by the page
    if request.htmx:
        rows = [r for r in token_rows(request.user) if r["credential"].pk == credential.pk]
        return render(request, "tokens/list.html#token-row", {"r": rows[0], "now": timezone.now()})
    return redirect("tokens:detail", slug=credential.slug)


@require_POST
@role_required(ADMIN)
def token_cap_reset(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential(request, slug)
    ask = confirm_first(
        request,
        title=_("Override today's cap"),
        cancel=reverse("tokens:detail", args=[credential.slug]),
        question=_(
            "Start today's count of token fetches for %(name)s again? "
            "Zhongkong stops at the platform's documented daily cap; "
            "past it the platform may refuse fetches itself."
        )
        % {"name": credential.name},
    )
    if ask:
        return ask
    services.token_cap_reset(credential=credential, by=request.user)
    return redirect("tokens:detail", slug=credential.slug)


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def client_keys(request: HttpRequest) -> HttpResponse:
    form = ClientKeyForm(request.POST or None)
    context = {"form": form}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            key, raw = services.client_key_create(
                name=form.cleaned_data["name"],
                credentials=form.cleaned_data["credentials"],
                expires_at=form.cleaned_data["expires_at"],
                by=request.user,
            )
            context = {"form": ClientKeyForm(), "created": key, "raw_key": raw}
        else:
            status = 422
    context["keys"] = ClientKey.objects.order_by("-created_at").prefetch_related("credentials")
    context["now"] = timezone.now()
    response = render(request, "tokens/keys.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(ADMIN)
def client_key_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ClientKey, pk=pk)
    ask = confirm_first(
        request,
        title=_("Revoke client key"),
        cancel=reverse("tokens:keys"),
        question=_(
            "Revoke “%(name)s”? Business servers using it are refused "
            "at once; this cannot be undone."
        )
        % {"name": key.name},
    )
    if ask:
        return ask
    services.client_key_revoke(key=key, by=request.user)
    return redirect("tokens:keys")
