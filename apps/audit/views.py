"""Review pages for auditors and admins. Unlike the recording core (services.py), the UI
uses the accounts app's role checks."""

from __future__ import annotations

import csv
import json

from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Role
from apps.accounts.roles import role_required

from .forms import EventFilterForm, SecretLookupForm, offered
from .models import AuditEvent
from .selectors import (
    events_for_export,
    events_page,
    events_with_fingerprint,
    handouts_of_token,
)
from .services import fingerprint, record, verify_chain

REVIEWERS = (Role.AUDITOR, Role.ADMIN)
EXPORT_FIELDS = [
    "seq",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "ip",
    "user_agent",
    "request_id",
    "details",
    "secret_fingerprints",
    "prev_hash",
    "hash",
]


def _filter_form(request: HttpRequest) -> EventFilterForm:
    """The filter form, with the platforms and credentials (deleted ones too) as choices."""
    return EventFilterForm(
        request.GET or None,
        platforms=offered("platform"),
        credentials=offered("credential"),
    )


@require_GET
@role_required(*REVIEWERS)
def event_list(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    before = form.cleaned_data.get("before") if form.is_valid() else None
    event_filter = form.event_filter()
    events, next_before = events_page(event_filter, before=before) if event_filter else ([], None)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": events,
        "next_before": next_before,
        "query": query.urlencode(),
        "filtered": bool(form.described()),
    }
    template = (
        "audit/list.html#event-table"
        if request.htmx and request.headers.get("HX-Target") == "event-table"
        else "audit/list.html"
    )
    return render(request, template, context)


@require_GET
@role_required(*REVIEWERS)
def event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    event = get_object_or_404(AuditEvent, seq=seq)
    details = json.dumps(event.details, ensure_ascii=False, indent=2, sort_keys=True)
    template = "audit/detail.html#drawer" if request.htmx else "audit/detail.html"
    return render(request, template, {"event": event, "details_json": details})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> object:
    """A CSV cell a spreadsheet will not run: text starting like a formula (= + - @, tab or
    CR, as a username `=cmd|'/c calc'!A1` or a client key `=HYPERLINK(...)` can) gets a
    leading apostrophe (OWASP's CSV injection advice). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _row(event: AuditEvent) -> dict:
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["created_at"] = event.created_at.isoformat()
    return row


@require_GET
@role_required(*REVIEWERS)
def event_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    """The filtered events, streamed (constant memory however many there are)."""
    form = _filter_form(request)
    if form.event_filter() is None:
        return HttpResponseBadRequest(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            content_type="text/plain",
        )
    with transaction.atomic():
        record(
            action="audit.export",
            request=request,
            details={"format": fmt, "filters": form.described()},
        )
    events = events_for_export(form.event_filter())
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(EXPORT_FIELDS)
            for event in events:
                row = _row(event)
                row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
                row["secret_fingerprints"] = json.dumps(row["secret_fingerprints"], sort_keys=True)
                yield writer.writerow([spreadsheet_safe(row[name]) for name in EXPORT_FIELDS])

        content_type = "text/csv; charset=utf-8"
    else:

        def lines():
            for event in events:
                yield json.dumps(_row(event), ensure_ascii=False, sort_keys=True) + "\n"

        content_type = "application/x-ndjson; charset=utf-8"
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(*REVIEWERS)
def chain_verify(request: HttpRequest) -> HttpResponse:
    report = verify_chain()
    with transaction.atomic():
        record(
            action="audit.verify",
            request=request,
            outcome=AuditEvent.Outcome.SUCCESS if report.ok else AuditEvent.Outcome.FAILURE,
            details={"checked": report.checked, "bad_seq": report.bad_seq},
        )
    return render(request, "audit/list.html#verify-result", {"report": report})


@never_cache
@require_POST
@role_required(Role.ADMIN)
def secret_lookup(request: HttpRequest) -> HttpResponse:
    """Where was this leaked key used? Match the value's fingerprint, never store the value."""
    form = SecretLookupForm(request.POST)
    context = {"lookup_form": form}
    if form.is_valid():
        value = form.cleaned_data["value"]
        digest = fingerprint(value)
        matches = sorted(
            {
                e.seq: e for e in [*events_with_fingerprint(digest), *handouts_of_token(digest)]
            }.values(),
            key=lambda e: -e.seq,
        )
        with transaction.atomic():
            record(
                action="audit.secret_lookup",
                request=request,
                secrets={"looked_up": value},
                details={"matches": len(matches)},
            )
        context["matches"] = [m for m in matches if m.action != "audit.secret_lookup"]
        context["looked_up"] = True
    template = "audit/lookup.html#lookup-result" if request.htmx else "audit/lookup.html"
    return render(request, template, context, status=200 if form.is_valid() else 422)


@require_GET
@role_required(Role.ADMIN)
def secret_lookup_page(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/lookup.html", {"lookup_form": SecretLookupForm()})
