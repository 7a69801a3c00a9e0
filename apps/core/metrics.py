"""Prometheus metric definitions. Counters are incremented where things happen, in whichever
process (prometheus-client's multiprocess mode: each process writes into PROMETHEUS_MULTIPROC_DIR
and a scrape sums the files, so counts survive across web workers and Celery processes).
Gauges read from the database at scrape time are collected on the top floor (apps/home)."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter

Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

TOKEN_REFRESHES = Counter(
    "zk_token_refreshes", "Token fetches from a platform", ["platform", "outcome", "reason"]
)
TOKEN_HANDOUTS = Counter(
    "zk_token_handouts", "Tokens handed out by the token API", ["client_key", "credential"]
)
CONSOLE_SENDS = Counter("zk_console_sends", "Console sends", ["platform", "outcome"])
RATE_LIMITED = Counter("zk_rate_limit_refusals", "Requests refused by a rate limit", ["surface"])
ALERT_DELIVERIES = Counter(
    "zk_alert_deliveries", "Alert messages sent to channels", ["kind", "event", "outcome"]
)
AUDIT_EVENTS = Counter("zk_audit_events", "Audit events written, by action family", ["family"])
