"""JS-SDK tickets, held like tokens: fetched once however many callers ask (a lease taken
with a compare-and-set on the row's version, across processes and hosts), refreshed before
they expire, counted against the platform's hourly cap (WeCom: 400 an hour per corp, 100 per
app), and replaced on a caller's report that the platform rejected one (compare-and-refresh:
only while the rejected ticket is still the one held). A ticket depends on its app token
but outlives the token's rotation; a ticket call refused for its token gets one
compare-and-refresh of the token and one more try."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, fingerprint, record
from apps.providers.base import Classification, ProviderError
from apps.providers.client import fetch_ticket
from apps.providers.jsapi import TicketGrant
from apps.vault.models import Credential

from .models import Ticket
from .services import SAFETY, _last_error, _lease, _owner, token_for_use, token_refresh

logger = logging.getLogger(__name__)
REFRESH_BEFORE = 600


class TicketUnavailable(Exception):
    def __init__(self, code: str, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code, self.retry_after = code, retry_after


def is_valid(row: Ticket, now: datetime) -> bool:
    return bool(row.value_blob) and row.expires_at is not None and row.expires_at > now + SAFETY


def _row(credential: Credential, kind: str) -> Ticket:
    spec = credential.platform.jsapi
    if spec is None or spec.kind(kind) is None:
        raise TicketUnavailable("not_found", f"{credential.provider} has no {kind!r} ticket")
    try:
        with transaction.atomic():
            row, _ = Ticket.objects.get_or_create(credential=credential, kind=kind)
    except IntegrityError:  # created by a concurrent caller
        row = Ticket.objects.get(credential=credential, kind=kind)
    return row


def _load(pk: int) -> Ticket:
    return Ticket.objects.select_related("credential").get(pk=pk)


def ticket_current(
    *, credential: Credential, kind: str, rejected: str | None = None, actor: Actor
) -> Ticket:
    """A valid ticket: the one held, or a new one when there is none, it is due, or a caller
    saw `rejected` refused while it is still the one held. Concurrent callers share one
    fetch. Raises TicketUnavailable."""
    pk = _row(credential, kind).pk
    deadline = time.monotonic() + min(settings.TOKEN_LEASE_SECONDS + 5, settings.TOKEN_WAIT_MAX)
    owner = _owner()
    while True:
        row, now = _load(pk), timezone.now()
        if not _due(row, now, rejected):
            return _serve(row, now)
        claimed = Ticket.objects.filter(pk=pk, version=row.version).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now)
        )
        if claimed.update(lease_owner=owner, lease_until=now + _lease()):
            return _fetch(_load(pk), owner, actor)
        _wait(pk, row.version, deadline)  # another caller is fetching
        rejected = None  # refreshed (or given up) by the other caller: look again


def _wait(pk: int, version: int, deadline: float) -> None:
    """Until the row's version moves or the other caller's lease ends."""
    while time.monotonic() < deadline:
        time.sleep(settings.TOKEN_WAIT_POLL)
        moved = _load(pk)
        if moved.version != version or not moved.lease_until:
            return
        if moved.lease_until <= timezone.now():
            return
    raise TicketUnavailable("refresh_timeout", "the fetch in progress took too long", retry_after=1)


def _due(row: Ticket, now: datetime, rejected: str | None) -> bool:
    if row.retry_at is not None and row.retry_at > now:
        return False  # backing off: serve what is held, or say so
    if not is_valid(row, now):
        return True
    if rejected is not None:  # only while the rejected ticket is still the one held
        return row.value() == rejected
    return row.refresh_at is not None and row.refresh_at <= now


def _serve(row: Ticket, now: datetime) -> Ticket:
    if is_valid(row, now):
        return row
    retry = (row.retry_at - now).total_seconds() if row.retry_at else None
    raise TicketUnavailable(
        "upstream_failed", "no valid ticket could be fetched", retry_after=retry
    )


def _this_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


@sensitive_variables("token", "grant")
def _fetch(row: Ticket, owner: str, actor: Actor) -> Ticket:
    credential, now = row.credential, timezone.now()
    cap = credential.platform.jsapi.kind(row.kind).hourly_cap
    fetched = row.fetches if row.hour == _this_hour(now) else 0
    if cap is not None and fetched >= cap:
        _release(row, owner)
        wait = (_this_hour(now) + timedelta(hours=1) - now).total_seconds()
        if is_valid(row, now):
            return row
        raise TicketUnavailable("quota", f"{cap} ticket fetches this hour", retry_after=wait)
    token = token_for_use(credential=credential, actor=actor)
    try:
        grant = _ask(credential, row.kind, token, actor)
    except ProviderError as exc:
        return _failed(row, owner, exc, actor)
    except Exception:
        _release(row, owner)
        raise
    return _store(row, grant, fetched + 1, actor)


@sensitive_variables("token", "fresh")
def _ask(credential: Credential, kind: str, token: str, actor: Actor) -> TicketGrant:
    """The platform's ticket; once more with a compare-and-refreshed token when the platform
    said the token was not (or no longer) valid."""
    for attempt in (1, 2):
        try:
            return fetch_ticket(
                credential.platform,
                base_url=credential.effective_base_url,
                creds=credential.adapter_values(),
                token=token,
                kind=kind,
                internal=settings.CONSOLE_INTERNAL_TARGETS,
                deadline=settings.TOKEN_FETCH_TIMEOUT,
            )
        except ProviderError as exc:
            if attempt == 2 or exc.decoded is None or not exc.decoded.token_rejected:
                raise
            fresh = token_refresh(
                credential_id=credential.pk, rejected_token=token, reason="passive", actor=actor
            ).value()
            if not fresh or fresh == token:
                raise
            token = fresh
    raise AssertionError("unreachable")


def _release(row: Ticket, owner: str) -> None:
    Ticket.objects.filter(pk=row.pk, lease_owner=owner).update(lease_owner="", lease_until=None)


def _store(row: Ticket, grant: TicketGrant, fetched: int, actor: Actor) -> Ticket:
    now = timezone.now()
    margin = min(REFRESH_BEFORE, grant.expires_in * 0.25)
    with transaction.atomic():
        Ticket.objects.filter(pk=row.pk).update(
            value_blob=row.seal(grant.ticket),
            fingerprint=fingerprint(grant.ticket)[:16],
            version=F("version") + 1,
            obtained_at=now,
            expires_at=now + timedelta(seconds=grant.expires_in),
            refresh_at=now + timedelta(seconds=grant.expires_in - margin),
            lease_owner="",
            lease_until=None,
            failures=0,
            retry_at=None,
            last_error={},
            hour=_this_hour(now),
            fetches=fetched,
        )
        record(
            action="ticket.refresh",
            actor=actor,
            target_type="credential",
            target_id=row.credential.slug,
            secrets={"ticket": grant.ticket},
            details={"provider": row.credential.provider, "kind": row.kind, "fetches": fetched},
        )
    return _load(row.pk)


def _failed(row: Ticket, owner: str, exc: ProviderError, actor: Actor) -> Ticket:
    now = timezone.now()
    classification = exc.decoded.classification if exc.decoded else Classification.RETRYABLE
    failures = row.failures + 1
    wait = min(settings.TOKEN_BACKOFF_BASE * 2 ** (failures - 1), settings.TOKEN_BACKOFF_MAX)
    error = _last_error(exc.decoded, classification, "ticket")
    with transaction.atomic():
        Ticket.objects.filter(pk=row.pk, lease_owner=owner).update(
            lease_owner="",
            lease_until=None,
            failures=failures,
            retry_at=now + timedelta(seconds=wait),
            last_error=error,
        )
        record(
            action="ticket.refresh",
            actor=actor,
            outcome=AuditEvent.Outcome.FAILURE,
            target_type="credential",
            target_id=row.credential.slug,
            details={"provider": row.credential.provider, "kind": row.kind, **error},
        )
    logger.warning("ticket fetch failed for %s/%s: %s", row.credential.slug, row.kind, error)
    return _serve(_load(row.pk), now)
