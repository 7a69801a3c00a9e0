from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
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
