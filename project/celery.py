from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("zhongkong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The one static beat schedule. Each entry names a task that takes primitives only.
app.conf.beat_schedule = {
    "heartbeat": {"task": "core.heartbeat", "schedule": 15.0},
}
