from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("zhongkong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _schedule(sender, **kwargs) -> None:
    from django.conf import settings

    # The embedded default's serverless broker lives in folders: made where it is used.
    for option in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = (sender.conf.broker_transport_options or {}).get(option)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)

    # The one static beat schedule. Each entry names a task that takes primitives only.
    # (The worker's heartbeat is sent by each worker itself: apps/core/tasks.py.)
    sender.conf.beat_schedule = {
        "tokens-scan-due": {"task": "tokens.scan_due", "schedule": settings.TOKEN_SCAN_INTERVAL},
        "tokens-scan-grants": {
            "task": "tokens.scan_grants",
            "schedule": settings.TOKEN_SCAN_INTERVAL,
        },
        "tokens-scan-tickets": {
            "task": "tokens.scan_tickets",
            "schedule": settings.TOKEN_SCAN_INTERVAL,
        },
        "tokens-flush-handouts": {"task": "tokens.flush_handouts", "schedule": 60.0},
        "alerts-evaluate": {"task": "alerts.evaluate", "schedule": settings.ALERT_EVALUATE_SECONDS},
        "alerts-verify-audit": {
            "task": "alerts.verify_audit",
            "schedule": crontab(hour=settings.ALERT_AUDIT_VERIFY_HOUR, minute=17),
        },
    }
