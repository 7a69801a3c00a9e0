"""Prometheus metrics. Counters are incremented where things happen, in whichever process
(prometheus-client's multiprocess mode: each process writes into PROMETHEUS_MULTIPROC_DIR
and a scrape sums the files, so counts survive across web workers and Celery processes).
Per-credential gauges are read from the database at scrape time."""

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


class TokenCollector:
    """Per-credential token gauges and the last verified audit head, read at scrape time
    (the database is the one truth every process shares)."""

    def collect(self):
        from django.utils import timezone
        from prometheus_client.core import GaugeMetricFamily

        from apps.audit.models import AuditCheckpoint
        from apps.tokens.health import State, token_health
        from apps.tokens.models import AccessToken
        from apps.vault.models import Credential

        now = timezone.now()
        labels = ["credential", "platform"]
        expiry = GaugeMetricFamily(
            "zk_token_seconds_to_expiry", "Seconds until the current token expires", labels=labels
        )
        age = GaugeMetricFamily(
            "zk_token_age_seconds", "Seconds since the token was obtained", labels=labels
        )
        fetches = GaugeMetricFamily("zk_token_fetches_today", "Tokens issued today", labels=labels)
        cap = GaugeMetricFamily(
            "zk_token_daily_cap", "The platform's daily fetch cap", labels=labels
        )
        health = GaugeMetricFamily(
            "zk_token_health", "1 for the token's health state", labels=[*labels, "state"]
        )
        tokens = {t.credential_id: t for t in AccessToken.objects.all()}
        for credential in Credential.objects.alive().order_by("slug"):
            if not credential.platform.uses_token_for(credential.public_values):
                continue
            token, key = tokens.get(credential.pk), [credential.slug, credential.provider]
            if token is not None and token.expires_at:
                expiry.add_metric(key, (token.expires_at - now).total_seconds())
            if token is not None and token.obtained_at:
                age.add_metric(key, (now - token.obtained_at).total_seconds())
            fetches.add_metric(key, token.fetches_today if token else 0)
            if credential.platform.refresh_policy.daily_cap:
                cap.add_metric(key, credential.platform.refresh_policy.daily_cap)
            state = token_health(credential, token, now).state
            for each in State:
                health.add_metric([*key, str(each)], 1 if each == state else 0)
        yield from (expiry, age, fetches, cap, health)
        head = AuditCheckpoint.objects.order_by("-id").first()
        verified = GaugeMetricFamily(
            "zk_audit_verified_head_seq", "Sequence number of the audit head last verified"
        )
        verified.add_metric([], head.seq if head else 0)
        yield verified
        from django.db.models import Count

        from apps.alerts.models import Alert, Rule

        open_alerts = GaugeMetricFamily(
            "zk_alerts_open", "Alerts whose condition still holds", labels=["rule"]
        )
        counts = dict(
            Alert.objects.filter(resolved_at__isnull=True)
            .values_list("rule")
            .annotate(n=Count("pk"))
            .values_list("rule", "n")
        )
        for rule in Rule:
            open_alerts.add_metric([rule.value], counts.get(rule.value, 0))
        yield open_alerts


def scrape() -> bytes:
    """Every process's counters, summed, and the database's gauges, in the text format."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(TokenCollector())
    return generate_latest(registry)
