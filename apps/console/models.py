from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.vault.models import Credential


class ConsoleCall(models.Model):
    """One send from the console. Everything stored is redacted by value first: any live
    secret or token of any credential is replaced before the row is written."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    credential = models.ForeignKey(
        Credential, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    status = models.PositiveIntegerField(default=0)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    truncated = models.BooleanField(default=False)
    elapsed_ms = models.FloatField(default=0)
    ok = models.BooleanField(default=False)
    code = models.CharField(max_length=64, blank=True)
    classification = models.CharField(max_length=32, blank=True)
    trace_id = models.CharField(max_length=200, blank=True, db_index=True)
    trace_source = models.CharField(max_length=64, blank=True)
    retried = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    # The request as built, before auth was injected (redacted too): what a replay re-sends.
    request_spec = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="console_call_user"),
            models.Index(fields=["credential", "-id"], name="console_call_credential"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url} → {self.status}"


class SavedRequest(models.Model):
    """A request kept by name for later: the builder's fields, redacted by value like the
    history. Private to its owner unless shared with the team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    folder = models.CharField(max_length=100, blank=True)
    shared = models.BooleanField(default=False)
    credential = models.ForeignKey(
        Credential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_spec = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["folder", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "folder", "name"], name="console_saved_unique_name"
            )
        ]
        indexes = [models.Index(fields=["shared", "folder", "name"], name="console_saved_shared")]

    def __str__(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name
