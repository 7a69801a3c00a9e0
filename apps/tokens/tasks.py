from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.audit.services import Actor

from . import grants, services, tickets
from .models import Ticket, UserGrant
from .selectors import credentials_due


@shared_task(name="tokens.scan_due", ignore_result=True)
def scan_due() -> int:
    """Beat, every TOKEN_SCAN_INTERVAL: enqueue a refresh for each credential due before the
    next scan, to run at its own planned time (so the jitter that spreads refreshes survives a
    scan interval coarser than it). Also the safety net for a refresh lost with a worker."""
    now = timezone.now()
    due = credentials_due(now + timedelta(seconds=settings.TOKEN_SCAN_INTERVAL))
    for credential_id, planned in due:
        refresh.apply_async((credential_id,), eta=max(planned or now, now))
    return len(due)


@shared_task(name="tokens.refresh", ignore_result=True, acks_late=True)
def refresh(credential_id: int) -> None:
    """Idempotent: a redelivered or duplicate task finds the token no longer due."""
    try:
        services.token_refresh(credential_id=credential_id, reason="scheduled", wait=False)
    except services.TokenUnavailable:
        pass  # recorded on the token row and in the audit log by the service


@shared_task(name="tokens.flush_handouts", ignore_result=True)
def flush_handouts() -> int:
    return services.handouts_audit(before=timezone.now())


@shared_task(name="tokens.scan_grants", ignore_result=True)
def scan_grants() -> int:
    """Beat, every TOKEN_SCAN_INTERVAL: enqueue a refresh for each healthy user grant due
    before the next scan, at its own planned time. The (state, refresh_at) index serves the
    query: its cost follows what is due, not how many grants there are."""
    now = timezone.now()
    horizon = now + timedelta(seconds=settings.TOKEN_SCAN_INTERVAL)
    due = list(UserGrant.objects.due_for_refresh(horizon).values_list("pk", "refresh_at"))
    for grant_id, planned in due:
        refresh_grant.apply_async((grant_id,), eta=max(planned or now, now))
    return len(due)


@shared_task(name="tokens.refresh_grant", ignore_result=True, acks_late=True)
def refresh_grant(grant_id: int) -> None:
    """Idempotent: a redelivered or duplicate task finds the grant no longer due (the lease
    and the version make a second one wait, then find it fresh)."""
    try:
        grants.grant_refresh(grant_id=grant_id, reason="scheduled", wait=False)
    except grants.GrantUnavailable:
        pass  # recorded on the grant and in the audit log by the service
    except UserGrant.DoesNotExist:
        pass  # revoked since it was enqueued


@shared_task(name="tokens.scan_tickets", ignore_result=True)
def scan_tickets() -> int:
    """Beat, every TOKEN_SCAN_INTERVAL: enqueue a refresh for each JS-SDK ticket due before
    the next scan, at its planned time (tickets are made on first demand, then kept fresh)."""
    now = timezone.now()
    horizon = now + timedelta(seconds=settings.TOKEN_SCAN_INTERVAL)
    due = list(
        Ticket.objects.filter(refresh_at__lte=horizon)
        .filter(credential__enabled=True, credential__deleted_at__isnull=True)
        .values_list("pk", "refresh_at")
    )
    for ticket_id, planned in due:
        refresh_ticket.apply_async((ticket_id,), eta=max(planned or now, now))
    return len(due)


@shared_task(name="tokens.refresh_ticket", ignore_result=True, acks_late=True)
def refresh_ticket(ticket_id: int) -> None:
    """Idempotent: a duplicate finds the ticket fresh (the lease and version make it wait)."""
    row = Ticket.objects.select_related("credential").filter(pk=ticket_id).first()
    if row is None:
        return
    try:
        tickets.ticket_current(
            credential=row.credential, kind=row.kind, actor=Actor.system("ticket-scheduled")
        )
    except (tickets.TicketUnavailable, services.TokenUnavailable):
        pass  # recorded on the row and in the audit log
