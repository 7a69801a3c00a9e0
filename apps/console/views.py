from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.core.confirm import confirm_first
from apps.providers.base import loads
from apps.providers.registry import PROVIDERS
from apps.tokens.models import UserGrant
from apps.vault.models import Credential

from . import catalogue, curl, postman
from .forms import ConsoleForm, SaveForm, api_initial, builder_initial
from .parts import RequestParts
from .selectors import calls_for, history_page, recent_sends, saved_by_folder, saved_for
from .services import (
    Outcome,
    auth_preview,
    body_text,
    console_replay,
    console_send,
    saved_request_delete,
    saved_request_save,
    saved_requests_import,
)

USERS = (Role.ADMIN, Role.DEVELOPER)
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def _pretty(text: str) -> str:
    try:
        return json.dumps(loads(text), ensure_ascii=False, indent=2)
    except ValueError:  # not JSON, or nested too deeply: shown as it came
        return text


def _result_template(context: dict) -> str:
    """The result region's partial for what there is to show (one a kind of outcome)."""
    form, save_form = context.get("form"), context.get("save_form")
    outcome = context.get("outcome")
    if (form is not None and form.errors) or (save_form is not None and save_form.errors):
        kind = "errors"
    elif context.get("export"):
        kind = "export"
    elif outcome is None:
        kind = "empty"
    else:
        kind = "wait" if outcome.wait else "call" if outcome.call else "unsent"
    return f"console/result/{kind}.html"


def _page_context(request: HttpRequest, form: ConsoleForm, **extra) -> dict:
    """What every full console page shows beside the builder."""
    saved = saved_for(request.user)
    context = {
        "form": form,
        "save_form": extra.pop("save_form", None) or SaveForm(prefix="save"),
        "history": recent_sends(request.user),
        "saved": saved.order_by("-updated_at")[:10],
        "folders": sorted({f for f in saved.values_list("folder", flat=True) if f}),
        "idempotency": _idempotency_headers(request),
        "connected_users": _connected_users(request),
        **extra,
    }
    return {**context, "result_template": _result_template(context)}


def _connected_users(request: HttpRequest) -> list[UserGrant]:
    """The connected users the builder offers to send as (the field shows only when there
    are some; any other connected user's id may be typed)."""
    visible = Credential.objects.visible_to(request.user)
    return list(
        UserGrant.objects.filter(credential__in=visible)
        .select_related("credential")
        .only("user_id", "name", "credential__slug")
        .order_by("credential__slug", "name")[:200]
    )


def _visible_credential(request: HttpRequest, slug: str) -> Credential | None:
    """The credential named in a query string, when the user may use it (else None)."""
    if not SLUG.fullmatch(slug):
        return None
    return Credential.objects.visible_to(request.user).filter(slug=slug).first()


def _idempotency_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """(header, platform) for each platform among the user's credentials that reads an
    idempotency key on writes: the builder offers to pin one only then."""
    found = {}
    for provider in (
        Credential.objects.visible_to(request.user)
        .order_by()
        .values_list("provider", flat=True)
        .distinct()
    ):
        platform = PROVIDERS.get(provider)
        header = platform.idempotency_header("POST", "/") if platform else None
        if header:
            name = platform.name_en if request.LANGUAGE_CODE == "en" else platform.name_zh
            found[header] = sorted({*found.get(header, ()), name})
    return [(header, " · ".join(names)) for header, names in sorted(found.items())]


@require_GET
@role_required(*USERS)
def console_page(request: HttpRequest) -> HttpResponse:
    initial = {k: request.GET[k] for k in ("credential", "method", "path") if k in request.GET}
    visible = Credential.objects.visible_to(request.user)
    save_initial = {}
    if request.GET.get("saved", "").isdigit():
        saved = get_object_or_404(saved_for(request.user), pk=int(request.GET["saved"]))
        slug = (
            saved.credential.slug
            if saved.credential and visible.filter(pk=saved.credential_id).exists()
            else ""
        )
        initial = builder_initial(slug, saved.request_spec)
        if saved.owner_id == request.user.pk:
            save_initial = {"name": saved.name, "folder": saved.folder, "shared": saved.shared}
    elif request.GET.get("from", "").isdigit():  # a past send, to edit and send again
        call = get_object_or_404(calls_for(request.user), pk=int(request.GET["from"]))
        slug = (
            call.credential.slug
            if call.credential and visible.filter(pk=call.credential_id).exists()
            else ""
        )
        if "method" in call.request_spec and "path" in call.request_spec:
            initial = builder_initial(slug, call.request_spec)
    credential = _visible_credential(request, initial.get("credential", ""))
    api = catalogue.get(credential.provider, request.GET.get("api", "")) if credential else None
    if api is not None:
        initial.update(api_initial(api))
    form = ConsoleForm(initial=initial, user=request.user)
    return render(
        request,
        "console/page.html",
        _page_context(
            request,
            form,
            credential=credential,
            api=api,
            **_catalogue_context(credential, ""),
            save_form=SaveForm(prefix="save", initial=save_initial),
            credentials=visible.filter(enabled=True),
        ),
    )


def _next_page(outcome) -> dict | None:
    """The builder's fields for the next page, when the platform's envelope says there is one."""
    decoded, call = outcome.decoded, outcome.call
    if decoded is None or not decoded.next_page or call is None or not call.request_spec:
        return None
    spec = dict(call.request_spec)
    query = dict(spec.get("query") or [])
    if decoded.next_page_in == "query":
        query.update({k: str(v) for k, v in decoded.next_page.items()})
    else:
        body = spec.get("body")
        spec["body"] = {**(body if isinstance(body, dict) else {}), **decoded.next_page}
    spec["query"] = list(query.items())
    return builder_initial(call.credential.slug if call.credential else "", spec)


def _catalogue_context(credential, query: str) -> dict:
    """The catalogue entries the credential reaches that match the query, and how many it
    reaches in all."""
    if credential is None:
        return {"apis": (), "api_count": 0}
    family = catalogue.family_of(credential)
    return {
        "apis": catalogue.search(credential.provider, query, family=family),
        "api_count": len(catalogue.entries(credential.provider, family)),
    }


@require_GET
@role_required(*USERS)
def catalogue_search(request: HttpRequest) -> HttpResponse:
    """Type-ahead over the chosen credential's platform catalogue (an htmx partial)."""
    credential = _visible_credential(request, request.GET.get("credential", ""))
    query = request.GET.get("q", "")[:200]
    return render(
        request,
        "console/_catalogue_results.html",
        {
            "credential": credential,
            "query": query,
            **_catalogue_context(credential, query),
        },
    )


@require_GET
@role_required(*USERS)
def history(request: HttpRequest) -> HttpResponse:
    filters = {
        k: request.GET.get(k, "").strip()[:200]
        for k in ("credential", "platform", "outcome", "code", "trace")
    }
    before = request.GET.get("before", "")
    calls, next_before = history_page(
        request.user, before=int(before) if before.isdigit() else None, **filters
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "console/history.html",
        {
            "calls": calls,
            "next_before": next_before,
            "filters": filters,
            "query": query,
            "platforms": PROVIDERS.values(),
        },
    )


def _export_code(credential: Credential, spec: dict) -> list[tuple[str, str, str]]:
    """A request spec as code in every language, auth as placeholders."""
    built = RequestParts.from_spec(spec).outbound(credential.effective_base_url)
    code = curl.exports(curl.placeholders(credential.platform, built), spec)
    return [(key, label, code[key]) for key, label in curl.LANGUAGES]


@require_GET
@role_required(*USERS)
def history_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One past send as it was (redacted as it was stored): the request that went out, what
    came back decoded again by its platform's adapter, and the request as code."""
    call = get_object_or_404(calls_for(request.user), pk=pk)
    credential = call.credential
    decoded = None
    if credential is not None and call.status:
        decoded = credential.platform.decode(
            call.status, call.response_headers, call.response_body.encode()
        )
    usable = (
        credential is not None
        and Credential.objects.visible_to(request.user).filter(pk=credential.pk).exists()
    )
    return render(
        request,
        "console/history_detail.html",
        {
            "call": call,
            "outcome": Outcome(call, decoded),
            "pretty_body": _pretty(call.response_body),
            "export_code": _export_code(credential, call.request_spec)
            if usable and "method" in call.request_spec and "path" in call.request_spec
            else [],
            "usable": usable,
        },
    )


@require_POST
@role_required(*USERS)
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(calls_for(request.user), pk=pk, credential__isnull=False)
    if not Credential.objects.visible_to(request.user).filter(pk=call.credential_id).exists():
        raise Http404
    outcome = console_replay(user=request.user, call=call)
    form = ConsoleForm(
        initial=builder_initial(call.credential.slug, call.request_spec), user=request.user
    )
    context = _page_context(request, form, outcome=outcome, replayed=call)
    if outcome.call is not None:
        context["pretty_body"] = _pretty(outcome.call.response_body)
        context["next_page"] = _next_page(outcome)
    return render(request, "console/page.html", context)


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def console_import(request: HttpRequest) -> HttpResponse:
    """Fill the builder from a pasted curl command (nothing is sent or stored)."""
    imported, error = None, ""
    try:
        imported = curl.parse(request.POST.get("curl", ""))
    except curl.CurlError as exc:
        error = str(exc)
    initial = {"credential": request.POST.get("credential", "")}
    warnings = imported.warnings if imported else []
    if imported is not None:
        usable = Credential.objects.visible_to(request.user).filter(enabled=True)
        chosen = curl.credential_for_host(imported.host, usable)
        if chosen is not None and chosen.slug != initial["credential"]:
            initial["credential"] = chosen.slug
            warnings = [
                _("Credential “%(slug)s” chosen: its platform serves %(host)s.")
                % {"slug": chosen.slug, "host": imported.host},
                *warnings,
            ]
    if imported is not None:
        initial.update(
            method=imported.method,
            path=imported.path,
            body=imported.body,
            query="\n".join(f"{k}={v}" for k, v in imported.query),
            headers="\n".join(f"{k}: {v}" for k, v in imported.headers),
        )
    form = ConsoleForm(initial=initial, user=request.user)
    return render(
        request,
        "console/page.html",
        _page_context(request, form, import_error=error, import_warnings=warnings),
        status=200 if imported else 422,
    )


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def console_export(request: HttpRequest) -> HttpResponse:
    """The built request as curl, Python, Node.js and Go, auth as placeholders (no live
    secret)."""
    form = ConsoleForm(request.POST, request.FILES, user=request.user)
    context = {"form": form}
    if form.is_valid():
        shown = curl.placeholders(form.cleaned_data["credential"].platform, form.built())
        spec = form.spec()
        context["export"] = curl.exports(shown, spec)
        context["export_code"] = [
            (key, label, context["export"][key]) for key, label in curl.LANGUAGES
        ]
    return _result(request, context, status=200 if form.is_valid() else 422)


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def console_send_view(request: HttpRequest) -> HttpResponse:
    form = ConsoleForm(request.POST, request.FILES, user=request.user)
    context = {"form": form}
    status = 200
    if form.is_valid():
        outcome = console_send(
            user=request.user, credential=form.cleaned_data["credential"], parts=form.parts()
        )
        context["outcome"] = outcome
        if outcome.call is not None:
            context["pretty_body"] = _pretty(outcome.call.response_body)
            context["next_page"] = _next_page(outcome)
    else:
        status = 422
    return _result(request, context, status=status)


def _result(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The result panel for htmx (with the recent sends, out of band, after a send), the
    whole page otherwise."""
    if request.htmx:
        context = {**context, "result_template": _result_template(context)}
        response = render(request, "console/page.html#result", context, status=status)
        if context.get("outcome") is not None:
            recent = render(
                request,
                "console/page.html#recent_panel",
                {"history": recent_sends(request.user), "oob": True},
            )
            response.content += recent.content
        return response
    return render(request, "console/page.html", _page_context(request, **context), status=status)


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def console_preview(request: HttpRequest) -> HttpResponse:
    """The request as it will go out: auth injected, secrets and token as placeholders."""
    form = ConsoleForm(request.POST, request.FILES, user=request.user)
    # Not yet chosen is not wrong: a form without a credential or a path is waiting, not red.
    context = {
        "form": form,
        "waiting": not (request.POST.get("credential") and request.POST.get("path", "").strip()),
    }
    if form.is_valid():
        authed, added = auth_preview(
            form.cleaned_data["credential"], form.built(), form.cleaned_data["as_user"]
        )
        shown = body_text(authed, form.spec())
        context.update(
            preview=authed,
            wire=authed.wire_headers(),
            library=set(authed.wire_headers()) - set(authed.headers),
            added=added,
            body_text=_pretty(shown) if authed.json is not None else shown,
        )
    return render(request, "console/preview.html", context)


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def saved_save(request: HttpRequest) -> HttpResponse:
    form = ConsoleForm(request.POST, request.FILES, user=request.user)
    save_form = SaveForm(request.POST, prefix="save")
    if not (form.is_valid() and save_form.is_valid()):
        return _result(request, {"form": form, "save_form": save_form}, status=422)
    data = save_form.cleaned_data
    saved, created = saved_request_save(
        user=request.user,
        credential=form.cleaned_data["credential"],
        spec=form.spec(),
        name=data["name"],
        folder=data["folder"],
        shared=data["shared"],
    )
    if not request.htmx:
        messages.success(request, _("Saved “%(name)s”.") % {"name": saved})
        return redirect(f"{reverse('console:page')}?saved={saved.pk}")
    return render(
        request,
        "console/saved_done.html",
        {"saved_item": saved, "created": created, "form": form, **_page_context(request, form)},
    )


@require_GET
@role_required(*USERS)
def saved_list(request: HttpRequest) -> HttpResponse:
    return _saved_page(request)


def _saved_page(request: HttpRequest, status: int = 200) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "console/saved.html",
        {
            "folders": saved_by_folder(request.user, search=search),
            "search": search,
            # A request shared by a teammate may name a credential not shared with this user:
            # its slug is not shown then.
            "visible": set(
                Credential.objects.visible_to(request.user).values_list("pk", flat=True)
            ),
        },
        status=status,
    )


@require_GET
@role_required(*USERS)
def saved_export(request: HttpRequest) -> HttpResponse:
    """The saved requests the user sees, as a Postman Collection v2.1 (no secret, no token:
    managed auth is left as empty variables)."""
    visible = set(Credential.objects.visible_to(request.user).values_list("pk", flat=True))
    collection = postman.export(saved_for(request.user).select_related("credential"), visible)
    response = HttpResponse(
        json.dumps(collection, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="zhongkong.postman_collection.json"'
    return response


@require_POST
@role_required(*USERS)
@sensitive_post_parameters()
def saved_import(request: HttpRequest) -> HttpResponse:
    """Saved requests from a Postman Collection (v2.0/v2.1), pasted or uploaded."""
    upload = request.FILES.get("file")
    text = (
        upload.read().decode("utf-8", "replace") if upload else request.POST.get("collection", "")
    )
    visible = {c.slug: c for c in Credential.objects.visible_to(request.user)}
    try:
        parsed = postman.parse(text, set(visible))
    except postman.CollectionError as exc:
        # Answered in place with 400: the page, and the reason naming the item at fault.
        messages.error(request, _("The collection could not be read: %(error)s") % {"error": exc})
        return _saved_page(request, status=400)
    if not parsed.requests:
        messages.error(request, _("The collection holds no request."))
        return _saved_page(request, status=400)
    kept = saved_requests_import(user=request.user, requests=parsed.requests, credentials=visible)
    messages.success(request, _("Imported %(count)s requests.") % {"count": len(kept)})
    for warning in parsed.warnings[:20]:
        messages.warning(request, warning)
    return redirect("console:saved")


@require_POST
@role_required(*USERS)
def saved_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(saved_for(request.user), pk=pk)
    if saved.owner_id != request.user.pk and request.user.role != Role.ADMIN:
        return HttpResponse(_("Only its owner or an admin may delete a saved request."), status=403)
    ask = confirm_first(
        request,
        title=_("Delete saved request"),
        cancel=reverse("console:saved"),
        question=_("Delete “%(name)s”? It is gone for everyone it was shared with.")
        % {"name": saved},
    )
    if ask:
        return ask
    saved_request_delete(user=request.user, saved=saved)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": saved})
    return redirect("console:saved")
