"""The scrape: every process's counters (defined in apps/core/metrics.py), summed, and gauges
read from the database at scrape time (the database is the one truth every process shares),
one collector per app whose state they show."""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from apps.alerts.models import Alert, Rule
from apps.audit.models import AuditCheckpoint
from apps.tokens.health import State, token_health
from apps.tokens.models import AccessToken
from apps.vault.models import Credential

_LABELS = ["credential", "platform"]


class TokenCollector:
    """Per-credential token gauges: time to expiry, age, fetches today, cap and health."""

    def collect(self):
        now = timezone.now()
        expiry = GaugeMetricFamily(
            "zk_token_seconds_to_expiry", "Seconds until the current token expires", labels=_LABELS
        )
        age = GaugeMetricFamily(
            "zk_token_age_seconds", "Seconds since the token was obtained", labels=_LABELS
        )
        fetches = GaugeMetricFamily("zk_token_fetches_today", "Tokens issued today", labels=_LABELS)
        cap = GaugeMetricFamily(
            "zk_token_daily_cap", "The platform's daily fetch cap", labels=_LABELS
        )
        health = GaugeMetricFamily(
            "zk_token_health", "1 for the token's health state", labels=[*_LABELS, "state"]
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


class AuditCollector:
    """The head of the audit chain that the last verification found intact."""

    def collect(self):
        head = AuditCheckpoint.objects.order_by("-id").first()
        verified = GaugeMetricFamily(
            "zk_audit_verified_head_seq", "Sequence number of the audit head last verified"
        )
        verified.add_metric([], head.seq if head else 0)
        yield verified


class AlertCollector:
    """Open alerts per rule (a rule with none open reads 0, so a query can tell it exists)."""

    def collect(self):
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
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in (TokenCollector(), AuditCollector(), AlertCollector()):
        registry.register(collector)
    return generate_latest(registry)
