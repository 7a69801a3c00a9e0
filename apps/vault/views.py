from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.accounts.second_factor import has_second_factor
from apps.accounts.services import ReauthLocked
from apps.providers.registry import PROVIDERS, get_provider

from . import services
from .forms import CredentialForm, RevealForm
from .models import Credential, Environment

ADMIN, DEVELOPER = Role.ADMIN, Role.DEVELOPER


def _credential_for_user(request: HttpRequest, slug: str) -> Credential:
    """The credential if this user may see it; 404 otherwise (no hint that it exists)."""
    credential = (
        Credential.objects.visible_to(request.user)
        .filter(slug=slug)
        .prefetch_related("allowed_users")
        .first()
    )
    if credential is None:
        raise Http404
    return credential


def _provider_or_404(key: str):
    try:
        return get_provider(key)
    except LookupError:
        raise Http404 from None


PAGE_SIZE = 50


@require_GET
@role_required(ADMIN, DEVELOPER)
def credential_list(request: HttpRequest) -> HttpResponse:
    # The token row rides along by its reverse name; the vault does not import the token centre.
    credentials = (
        Credential.objects.visible_to(request.user)
        .prefetch_related("allowed_users")
        .select_related("access_token")
    )
    platform, environment = request.GET.get("platform", ""), request.GET.get("environment", "")
    if platform in PROVIDERS:
        credentials = credentials.filter(provider=platform)
    if environment in Environment.values:
        credentials = credentials.filter(environment=environment)
    page = Paginator(credentials, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "credentials": page.object_list,
        "page": page,
        "platforms": PROVIDERS.values(),
        "now": timezone.now(),
        "environments": Environment.choices,
        "platform": platform,
        "environment": environment,
    }
    template = "vault/list.html#credential-table" if request.htmx else "vault/list.html"
    return render(request, template, context)


@require_GET
@role_required(ADMIN)
def credential_new(request: HttpRequest) -> HttpResponse:
    return render(request, "vault/new.html", {"platforms": PROVIDERS.values()})


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
@sensitive_post_parameters()
def credential_create(request: HttpRequest, provider: str) -> HttpResponse:
    platform = _provider_or_404(provider)
    form = CredentialForm(request.POST or None, provider=platform)
    if request.method == "POST" and form.is_valid():
        common, public, secrets = form.split()
        credential = services.credential_create(
            by=request.user,
            provider=platform.key,
            public=public,
            secrets=secrets,
            allowed_users=form.cleaned_data["allowed_users"],
            **common,
        )
        messages.success(
            request, _("Credential saved. Its secrets are encrypted and will not be shown again.")
        )
        return redirect("vault:detail", slug=credential.slug)
    status = 422 if request.method == "POST" else 200
    return render(request, "vault/form.html", {"form": form, "platform": platform}, status=status)


@require_GET
@role_required(ADMIN, DEVELOPER)
def credential_detail(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    platform = credential.platform
    fields = [
        {
            "spec": spec,
            "value": credential.public_values.get(spec.name, ""),
            "stored": spec.name in credential.secret_blobs,
            "hint": credential.secret_hints.get(spec.name, ""),
        }
        for spec in platform.fields
    ]
    return render(
        request,
        "vault/detail.html",
        {
            "credential": credential,
            "platform": platform,
            "fields": fields,
            "is_admin": request.user.role == ADMIN,
            "reveal_form": RevealForm(),
            "secret_choices": _secret_choices(request, credential),
            "needs_code": has_second_factor(request.user),
        },
    )


def _secret_choices(request: HttpRequest, credential) -> list[tuple[str, str]]:
    """(field, label) of each stored secret, labelled as the platform names it."""
    labels = {
        f.name: f.label_en if request.LANGUAGE_CODE == "en" else f.label_zh
        for f in credential.platform.fields
    }
    return [(name, labels.get(name, name)) for name in credential.secret_blobs]


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
@sensitive_post_parameters()
def credential_edit(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    form = CredentialForm(request.POST or None, provider=credential.platform, instance=credential)
    if request.method == "POST" and form.is_valid():
        common, public, secrets = form.split()
        changed = services.credential_update(
            credential=credential,
            by=request.user,
            changes=common,
            public=public,
            secrets=secrets,
            allowed_users=list(form.cleaned_data["allowed_users"]),
        )
        messages.success(request, _("Saved.") if changed else _("Nothing changed."))
        return redirect("vault:detail", slug=credential.slug)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "vault/form.html",
        {"form": form, "platform": credential.platform, "credential": credential},
        status=status,
    )


@require_POST
@role_required(ADMIN)
def credential_test(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    result = services.credential_test(credential=credential, by=request.user)
    return render(
        request, "vault/detail.html#test-result", {"credential": credential, "result": result}
    )


@never_cache
@require_POST
@role_required(ADMIN)
@sensitive_post_parameters()
def credential_reveal(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    form = RevealForm(request.POST)
    context = {
        "credential": credential,
        "reveal_form": form,
        "secret_choices": _secret_choices(request, credential),
        "needs_code": has_second_factor(request.user),
    }
    if form.is_valid() and form.cleaned_data["field"] in credential.secret_blobs:
        try:
            context["revealed"] = services.credential_reveal(
                credential=credential,
                field=form.cleaned_data["field"],
                by=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
            context["revealed_field"] = form.cleaned_data["field"]
        except PermissionDenied:
            form.add_error(
                "password",
                _("That password or code is not correct.")
                if has_second_factor(request.user)
                else _("That password is not correct."),
            )
        except ReauthLocked:
            form.add_error(
                "password",
                _(
                    "Too many wrong passwords: revealing is paused for 15 "
                    "minutes (signing in is not affected). Another admin "
                    "can lift this with Unlock on the users page."
                ),
            )
    elif form.is_valid():
        form.add_error(None, _("This credential has no such secret."))
    return render(
        request, "vault/detail.html#reveal", context, status=200 if "revealed" in context else 422
    )


@require_POST
@role_required(ADMIN)
def credential_toggle(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    services.credential_set_enabled(
        credential=credential,
        by=request.user,
        enabled=request.POST.get("enabled") == "1",
    )
    return redirect("vault:detail", slug=credential.slug)


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def credential_delete(request: HttpRequest, slug: str) -> HttpResponse:
    credential = _credential_for_user(request, slug)
    if request.method == "POST":
        if request.POST.get("confirm_slug") != credential.slug:
            return render(
                request,
                "vault/delete.html",
                {"credential": credential, "error": _("Type the slug exactly to confirm.")},
                status=422,
            )
        services.credential_delete(credential=credential, by=request.user)
        messages.success(request, _("Credential deleted."))
        return redirect("vault:list")
    return render(request, "vault/delete.html", {"credential": credential})
