from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required
from apps.providers.base import OutboundRequest, join_url
from apps.providers.registry import PROVIDERS
from apps.vault.models import Credential

from . import curl
from .forms import ConsoleForm
from .models import ConsoleCall
from .selectors import calls_for, history_page
from .services import console_replay, console_send

USERS = (Role.ADMIN, Role.DEVELOPER)


def _history(user):
    return (ConsoleCall.objects.filter(user=user).select_related("credential")
            .only("id", "created_at", "method", "url", "status", "ok", "code", "trace_id",
                  "credential__slug", "credential__name")[:15])


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


@require_GET
@role_required(*USERS)
def console_page(request: HttpRequest) -> HttpResponse:
    initial = {k: request.GET[k] for k in ("credential", "method", "path") if k in request.GET}
    credential = Credential.objects.visible_to(request.user).filter(
        slug=request.GET.get("credential", "")).first()
    endpoints = credential.platform.endpoints if credential else ()
    chosen = request.GET.get("endpoint", "")
    if chosen.isdigit() and int(chosen) < len(endpoints):
        endpoint = endpoints[int(chosen)]
        initial.update(method=endpoint.method, path=endpoint.path,
                       query="\n".join(f"{k}={v}" for k, v in endpoint.query),
                       body=json.dumps(endpoint.body, ensure_ascii=False, indent=2)
                       if endpoint.body is not None else "")
    form = ConsoleForm(initial=initial, user=request.user)
    return render(request, "console/page.html", {
        "form": form, "history": _history(request.user), "credential": credential,
        "endpoints": endpoints,
        "credentials": Credential.objects.visible_to(request.user).filter(enabled=True)})


def _next_page(outcome) -> dict | None:
    """The builder's fields for the next page, when the platform's envelope says there is one."""
    decoded, call = outcome.decoded, outcome.call
    if decoded is None or not decoded.next_page or call is None or not call.request_spec:
        return None
    spec = call.request_spec
    query = dict(spec.get("query") or [])
    body = spec.get("body")
    if decoded.next_page_in == "query":
        query.update({k: str(v) for k, v in decoded.next_page.items()})
    else:
        body = {**(body if isinstance(body, dict) else {}), **decoded.next_page}
    return {"credential": call.credential.slug if call.credential else "",
            "method": spec.get("method", "GET"), "path": spec.get("path", "/"),
            "query": "\n".join(f"{k}={v}" for k, v in query.items()),
            "headers": "\n".join(f"{k}: {v}" for k, v in spec.get("headers") or []),
            "body": json.dumps(body, ensure_ascii=False) if body is not None else ""}


@require_GET
@role_required(*USERS)
def history(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "").strip()[:200] for k in
               ("credential", "platform", "outcome", "code", "trace")}
    before = request.GET.get("before", "")
    calls, next_before = history_page(request.user, before=int(before) if before.isdigit()
                                      else None, **filters)
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "console/history.html", {
        "calls": calls, "next_before": next_before, "filters": filters, "query": query,
        "platforms": PROVIDERS.values()})


@require_POST
@role_required(*USERS)
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(calls_for(request.user), pk=pk, credential__isnull=False)
    if not Credential.objects.visible_to(request.user).filter(pk=call.credential_id).exists():
        raise Http404
    outcome = console_replay(user=request.user, call=call, request=request)
    context = {"form": ConsoleForm(initial={"credential": call.credential.slug,
                                            "method": call.method,
                                            "path": call.request_spec.get("path", "")},
                                   user=request.user),
               "outcome": outcome, "history": _history(request.user)}
    if outcome.call is not None:
        context["pretty_body"] = _pretty(outcome.call.response_body)
    return render(request, "console/page.html", context)


@require_POST
@role_required(*USERS)
def console_import(request: HttpRequest) -> HttpResponse:
    """Fill the builder from a pasted curl command (nothing is sent or stored)."""
    imported, error = None, ""
    try:
        imported = curl.parse(request.POST.get("curl", ""))
    except curl.CurlError as exc:
        error = str(exc)
    initial = {"credential": request.POST.get("credential", "")}
    if imported is not None:
        initial.update(method=imported.method, path=imported.path, body=imported.body,
                       query="\n".join(f"{k}={v}" for k, v in imported.query),
                       headers="\n".join(f"{k}: {v}" for k, v in imported.headers))
    form = ConsoleForm(initial=initial, user=request.user)
    return render(request, "console/page.html", {
        "form": form, "history": _history(request.user), "import_error": error,
        "import_warnings": imported.warnings if imported else []},
        status=200 if imported else 422)


@require_POST
@role_required(*USERS)
def console_export(request: HttpRequest) -> HttpResponse:
    """The built request as curl and Python, auth as placeholders (no live secret)."""
    form = ConsoleForm(request.POST, user=request.user)
    context = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        credential = data["credential"]
        built = OutboundRequest(data["method"], join_url(credential.effective_base_url,
                                                         data["path"]),
                                params=list(data["query"]), headers=dict(data["headers"]),
                                json=data["body"])
        shown = curl.placeholders(credential.platform, built)
        context["export"] = {"curl": curl.as_curl(shown), "python": curl.as_python(shown)}
    template = "console/page.html#result" if request.htmx else "console/page.html"
    if not request.htmx:
        context["history"] = _history(request.user)
    return render(request, template, context, status=200 if form.is_valid() else 422)


@require_POST
@role_required(*USERS)
def console_send_view(request: HttpRequest) -> HttpResponse:
    form = ConsoleForm(request.POST, user=request.user)
    context = {"form": form}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        outcome = console_send(user=request.user, credential=data["credential"],
                               method=data["method"], path=data["path"], query=data["query"],
                               headers=data["headers"], body=data["body"], request=request)
        context["outcome"] = outcome
        if outcome.call is not None:
            context["pretty_body"] = _pretty(outcome.call.response_body)
            context["next_page"] = _next_page(outcome)
    else:
        status = 422
    template = "console/page.html#result" if request.htmx else "console/page.html"
    if not request.htmx:
        context["history"] = _history(request.user)
    return render(request, template, context, status=status)
