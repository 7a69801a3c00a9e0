from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Audit events are never changed or removed through the application."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002 - signature of QuerySet.update
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def in_chain_order(self) -> AuditEventQuerySet:
        return self.order_by("seq")


class AuditEvent(models.Model):
    """One audited act. Rows form a keyed hash chain in `seq` order (see services.py)."""

    class ActorType(models.TextChoices):
        USER = "user", _("User")
        CLIENT_KEY = "client_key", _("Client key")
        SYSTEM = "system", _("System")
        ANONYMOUS = "anonymous", _("Anonymous")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        DENIED = "denied", _("Denied")

    seq = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    secret_fingerprints = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["actor_type", "actor_id", "-seq"], name="audit_actor_seq"),
            models.Index(fields=["actor_label", "-seq"], name="audit_actor_label_seq"),
            models.Index(fields=["target_type", "target_id", "-seq"], name="audit_target_seq"),
            models.Index(fields=["action", "-seq"], name="audit_action_seq"),
            models.Index(fields=["outcome", "-seq"], name="audit_outcome_seq"),
            models.Index(KT("details__trace_id"), name="audit_trace_id"),
            models.Index(KT("details__provider"), "seq", name="audit_provider_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditCheckpoint(models.Model):
    """The chain's head as a verification found it (sequence number and hash). Deleting the
    newest events cannot rewind it: like the events it is append-only (a PostgreSQL trigger
    refuses UPDATE, DELETE and TRUNCATE), so a later verification sees the head go back."""

    created_at = models.DateTimeField(auto_now_add=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"
