"""Reads over the audit log: the filtered, newest-first, keyset-paginated event list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from .models import AuditEvent

# Families of dotted actions, as the README's table lists them.
ACTION_FAMILIES = ("auth", "user", "credential", "vault", "token", "client_key", "console", "audit")
PAGE_SIZE = 50


def detail_text(key: str) -> Cast:
    """A key of `details` as text, comparable with a plain string on every database. (A bare
    KT compared with a string makes SQLite parse the string as JSON: "malformed JSON".) On
    PostgreSQL the cast of text to text vanishes, so the expression indexes still apply."""
    return Cast(KT(f"details__{key}"), TextField())


# Events are numbered in the order they were written, and their times come from the writers'
# clocks: a time range maps to a range of numbers, widened by the skew allowed between hosts.
CLOCK_SKEW = timedelta(minutes=10)


def _seq_hint(*, order: str, **time_filter) -> int | None:
    """The first/last event number inside the widened time bound. The exact time filter stays
    beside it; the hint lets PostgreSQL walk a short stretch of the primary key instead of
    scanning back from the newest event. It holds while writers' clocks agree within
    CLOCK_SKEW."""
    field = "created_at" if order == "seq" else "-created_at"
    return (
        AuditEvent.objects.filter(**time_filter)
        .order_by(field)
        .values_list("seq", flat=True)
        .first()
    )


@dataclass
class EventFilter:
    start: datetime | None = None
    end: datetime | None = None
    actor: str = ""
    family: str = ""
    credential: str = ""
    platform: str = ""
    outcome: str = ""
    trace: str = ""
    text: str = ""

    def apply(self, events: QuerySet) -> QuerySet:
        if self.start:
            events = events.filter(created_at__gte=self.start)
            low = _seq_hint(created_at__gte=self.start - CLOCK_SKEW, order="seq")
            events = events.filter(seq__gte=low) if low else events
        if self.end:
            events = events.filter(created_at__lte=self.end)
            high = _seq_hint(created_at__lte=self.end + CLOCK_SKEW, order="-seq")
            events = events.filter(seq__lte=high) if high else events
        if self.actor:
            events = events.filter(actor_label=self.actor)
        if self.family:
            events = events.filter(action__startswith=f"{self.family}.")
        if self.credential:
            events = events.filter(target_type="credential", target_id=self.credential)
        if self.platform:
            events = events.alias(provider=detail_text("provider")).filter(provider=self.platform)
        if self.outcome:
            events = events.filter(outcome=self.outcome)
        if self.trace:
            events = events.alias(trace_id=detail_text("trace_id")).filter(
                Q(request_id=self.trace) | Q(trace_id=self.trace)
            )
        if self.text:
            events = events.filter(details__icontains=self.text)
        return events


def events_page(
    event_filter: EventFilter, *, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the `before` cursor of the next page (None at the end)."""
    events = event_filter.apply(AuditEvent.objects.all()).order_by("-seq")
    if before is not None:
        events = events.filter(seq__lt=before)
    page = list(events[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (page[-1].seq if more and page else None)


def events_for_export(event_filter: EventFilter):
    return event_filter.apply(AuditEvent.objects.all()).order_by("-seq").iterator(chunk_size=2000)


def events_with_fingerprint(fingerprint: str, *, size: int = 200) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(secret_fingerprints__icontains=fingerprint).order_by("-seq")[
            :size
        ]
    )


def handouts_of_token(fingerprint: str, *, size: int = 200) -> list[AuditEvent]:
    """The hand-outs of a token: hand-outs are counted per minute without the value, so they
    are found through the token's life, from the first refresh that obtained it (its
    fingerprint) to the next refresh of the same credential that obtained another one."""
    obtained = (
        AuditEvent.objects.filter(
            action="token.refresh", outcome="success", secret_fingerprints__icontains=fingerprint
        )
        .order_by("seq")
        .values_list("target_id", "created_at")
    )
    lives: dict[str, tuple[datetime, datetime | None]] = {}
    for credential, at in obtained:
        first = lives.get(credential, (at, None))[0]
        replaced = (
            AuditEvent.objects.filter(
                action="token.refresh",
                outcome="success",
                target_type="credential",
                target_id=credential,
                created_at__gt=at,
            )
            .exclude(secret_fingerprints__icontains=fingerprint)
            .order_by("seq")
            .values_list("created_at", flat=True)
            .first()
        )
        lives[credential] = (first, replaced)
    found: list[AuditEvent] = []
    for credential, (start, end) in lives.items():
        minute = detail_text("minute")
        events = (
            AuditEvent.objects.filter(
                action="token.handout", target_type="credential", target_id=credential
            )
            .alias(minute=minute)
            .filter(minute__gte=start.replace(second=0, microsecond=0).isoformat())
        )
        if end is not None:
            events = events.filter(minute__lt=end.isoformat())
        found += list(events.order_by("-seq")[:size])
    return sorted(found, key=lambda e: -e.seq)[:size]
