"""Alert channels (where alerts go), alerts (a condition that holds, from opened to
resolved) and deliveries (one message to one channel)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import SecretHolder


class Rule(models.TextChoices):
    REFRESH_FAILING = "refresh_failing", _("Token refresh keeps failing")
    STOPPED = "stopped", _("Credential stopped (refused secret or daily cap)")
    EXPIRING = "expiring", _("Token about to expire with no fresh one")
    CAP = "cap", _("Daily fetch cap at 80%")
    AUDIT = "audit", _("Audit chain verification failed")
    SILENT = "silent", _("Worker or beat silent")
    GRANT_REAUTH = "grant_reauth", _("Users must authorise again")
    GRANT_ENDING = "grant_ending", _("Users' grants end soon or cannot be refreshed")


# Rules judged on every evaluation from the tokens' state; AUDIT and SILENT have watchers
# of their own (the nightly verification, the worker and beat watching each other).
TOKEN_RULES = (
    Rule.REFRESH_FAILING,
    Rule.STOPPED,
    Rule.EXPIRING,
    Rule.CAP,
    Rule.GRANT_REAUTH,
    Rule.GRANT_ENDING,
)

EMAIL = "email"


class Channel(SecretHolder):
    """Where alerts go: a platform's group bot or event push, a signed webhook, or e-mail.
    The webhook address (its key is in it) and the signing secret are sealed like a
    credential's secrets (`secret_values()`: "url", "secret")."""

    aad_prefix = "alert-channel"

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32)
    enabled = models.BooleanField(_("enabled"), default=True)
    rules = models.JSONField(_("rules"), default=list)
    email_to = models.TextField(_("e-mail recipients"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.email_to.replace(";", ",").split(",") if a.strip()]


class Alert(models.Model):
    """One condition while it holds: opened once (the "firing" message), resolved once
    (the "recovered" message). At most one open alert per key."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("critical")
        WARNING = "warning", _("warning")

    key = models.CharField(max_length=200)
    rule = models.CharField(max_length=32, choices=Rule.choices)
    subject = models.CharField(max_length=120)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    title_zh = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    text_zh = models.TextField()
    text_en = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(resolved_at__isnull=True), name="alert_open_key"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "rule"], name="alert_open")]

    def __str__(self) -> str:
        return self.key


class Delivery(models.Model):
    """One message of an alert (or a test) to one channel, retried until sent or given up."""

    class Event(models.TextChoices):
        FIRING = "firing", _("firing")
        RESOLVED = "resolved", _("recovered")
        TEST = "test", _("test")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16, choices=Event.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    code = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    trace_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} to {self.channel_id}: {self.status}"
