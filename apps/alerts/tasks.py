from __future__ import annotations

import logging
import threading

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from . import services
from .models import Rule

logger = logging.getLogger(__name__)
STARTED = timezone.now()  # when this process began watching (a peer never seen since: silent)


def enqueue(ids: list[int]) -> None:
    """Send each delivery from a worker once the transaction that made it has committed."""
    for delivery_id in ids:
        transaction.on_commit(lambda i=delivery_id: deliver.delay(i))


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> int:
    """Beat, every ALERT_EVALUATE_SECONDS: open and resolve the token rules' alerts."""
    ids = services.alerts_evaluate()
    enqueue(ids)
    return len(ids)


@shared_task(name="alerts.verify_audit", ignore_result=True)
def verify_audit() -> int:
    """Beat, nightly: verify the audit chain; a broken chain is an alert."""
    ids = services.audit_verify_alert()
    enqueue(ids)
    return len(ids)


@shared_task(name="alerts.deliver", bind=True, ignore_result=True, acks_late=True)
def deliver(self, delivery_id: int) -> str:
    """One attempt; a platform's transient failure is tried again later (ALERT_RETRY_SECONDS,
    doubling, up to ALERT_DELIVERY_ATTEMPTS tries), a permanent one is not."""
    status = services.delivery_send(delivery_id=delivery_id)
    if status == "pending":
        wait = min(settings.ALERT_RETRY_SECONDS * 2**self.request.retries, 600)
        raise self.retry(countdown=wait, max_retries=None)
    return status


def watch(watcher: str) -> None:
    """The silence rule from a live process's side: judge the other process's heartbeat and
    send its deliveries here and now (the process they concern may be the one that is down)."""
    close_old_connections()
    try:
        services.silence_check(watcher=watcher, watching_since=STARTED)
        for delivery_id in services.deliveries_pending(rule=Rule.SILENT):
            services.delivery_send(delivery_id=delivery_id)
    except Exception:  # a database hiccup: the next round tries again
        logger.exception("alerts: the %s could not check its peer", watcher)
    finally:
        close_old_connections()


def _watch_loop(stop: threading.Event) -> None:
    while not stop.wait(settings.ALERT_EVALUATE_SECONDS):
        watch("worker")


@worker_ready.connect
def _start_watching_beat(sender=None, **kwargs) -> None:
    threading.Thread(
        target=_watch_loop, args=(threading.Event(),), name="alerts-watch-beat", daemon=True
    ).start()
