from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services
from .selectors import credentials_due


@shared_task(name="tokens.scan_due", ignore_result=True)
def scan_due() -> int:
    """Beat, every TOKEN_SCAN_INTERVAL: enqueue a refresh for each credential that is due.
    Also the safety net for a refresh task lost with a killed worker."""
    due = credentials_due(timezone.now())
    for credential_id in due:
        refresh.delay(credential_id)
    return len(due)


@shared_task(name="tokens.refresh", ignore_result=True, acks_late=True)
def refresh(credential_id: int) -> None:
    """Idempotent: a redelivered or duplicate task finds the token no longer due."""
    try:
        services.token_refresh(credential_id=credential_id, reason="scheduled")
    except services.TokenUnavailable:
        pass  # recorded on the token row and in the audit log by the service


@shared_task(name="tokens.flush_handouts", ignore_result=True)
def flush_handouts() -> int:
    return services.handouts_audit(before=timezone.now())
