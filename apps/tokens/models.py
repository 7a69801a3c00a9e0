from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core import crypto
from apps.vault.models import Credential


class AccessTokenQuerySet(models.QuerySet):
    def due_for_refresh(self, now) -> AccessTokenQuerySet:
        """Rows whose planned refresh time has come (or that never got a token, e.g. their
        first fetch died with its worker), not backing off, not blocked. Served by the
        (refresh_at) index: the cost follows what is due, not the table size."""
        return (
            self.filter(Q(refresh_at__lte=now) | Q(refresh_at__isnull=True))
            .filter(credential__enabled=True, credential__deleted_at__isnull=True)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .filter(Q(blocked_until__isnull=True) | Q(blocked_until__lte=now))
        )


class AccessToken(models.Model):
    """The current token of one credential, encrypted like the vault's secrets, plus what the
    refresh service needs: a lease (single-flight), the version it compares and sets, the
    previous token while the platform keeps it valid, and the last failure."""

    credential = models.OneToOneField(
        Credential, on_delete=models.CASCADE, related_name="access_token"
    )
    value_blob = models.TextField(blank=True)
    previous_blob = models.TextField(blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=16, blank=True)
    token_type = models.CharField(max_length=32, blank=True)
    version = models.PositiveIntegerField(default=0)
    obtained_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=32, blank=True)
    last_error = models.JSONField(default=dict, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    fetch_day = models.DateField(null=True, blank=True)
    fetches_today = models.PositiveIntegerField(default=0)
    # The last rejection a fetch answered: the rejected token's fingerprint, until when a
    # caller naming it again gets that fetch's result, and whether the platform handed the
    # same token back (it insists the token is current; refetching would change nothing).
    rejected_fingerprint = models.CharField(max_length=16, blank=True)
    rejection_until = models.DateTimeField(null=True, blank=True)
    reissued = models.BooleanField(default=False)

    objects = AccessTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"token of {self.credential.slug} v{self.version}"

    @staticmethod
    def aad_for(credential_uid, which: str) -> str:
        return f"token:{credential_uid}:{which}"

    def _aad(self, which: str) -> str:
        return self.aad_for(self.credential.uid, which)

    def value(self) -> str:
        return crypto.decrypt(self.value_blob, aad=self._aad("current")) if self.value_blob else ""

    def previous_value(self) -> str:
        return (
            crypto.decrypt(self.previous_blob, aad=self._aad("previous"))
            if self.previous_blob
            else ""
        )

    def seal(self, value: str) -> str:
        return crypto.encrypt(value, aad=self._aad("current"))

    def seal_previous(self, value: str) -> str:
        return crypto.encrypt(value, aad=self._aad("previous")) if value else ""


class ClientKeyQuerySet(models.QuerySet):
    def usable(self, now) -> ClientKeyQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ClientKey(models.Model):
    """A business server's key for the token API. Only its SHA-256 is stored; the key itself
    is shown once when created."""

    PREFIX = "zkck_"

    name = models.CharField(_("name"), max_length=120)
    key_prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    credentials = models.ManyToManyField(
        Credential, related_name="client_keys", verbose_name=_("credentials it may fetch")
    )
    # User tokens act as a person: a key reads them only when granted, for the users named
    # (empty: every user connected to its credentials).
    user_tokens = models.BooleanField(_("may read user tokens"), default=False)
    user_ids = models.TextField(_("only these users"), blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def user_id_list(self) -> list[str]:
        return self.user_ids.split()

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class HandoutCount(models.Model):
    """Token hand-outs per client key, credential and minute. The API adds to the count;
    a periodic task turns each finished minute into one audit event carrying the count."""

    client_key = models.ForeignKey(ClientKey, on_delete=models.CASCADE)
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE)
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    audited = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_key", "credential", "minute"], name="handout_minute"
            )
        ]
        indexes = [models.Index(fields=["audited", "minute"], name="handout_pending")]

    def __str__(self) -> str:
        return f"{self.count} hand-outs at {self.minute:%H:%M}"


class UserGrantQuerySet(models.QuerySet):
    def due_for_refresh(self, now) -> UserGrantQuerySet:
        """Healthy grants whose planned refresh time has come and that are not backing off.
        Served by the (state, refresh_at) index: the scan reads what is due, not every grant."""
        return (
            self.filter(state=UserGrant.State.HEALTHY, refresh_at__lte=now)
            .filter(credential__enabled=True, credential__deleted_at__isnull=True)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        )


class UserGrant(models.Model):
    """A user's OAuth grant to a credential's app: the refresh token (sealed, never shown,
    never handed out) and the current user access token (sealed, handed out), with what the
    refresh needs: a lease (single-flight across hosts), the version it compares and sets,
    and what became of the last attempt."""

    class State(models.TextChoices):
        HEALTHY = "healthy", _("healthy")
        NEEDS_REAUTH = "needs_reauth", _("needs re-authorisation")

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="grants")
    user_id = models.CharField(_("platform user id"), max_length=128)
    union_id = models.CharField(max_length=128, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    scopes = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.HEALTHY)
    refresh_blob = models.TextField(blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    access_blob = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=16, blank=True)
    version = models.PositiveIntegerField(default=0)
    obtained_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    refresh_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.JSONField(default=dict, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)

    objects = UserGrantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "user_id"], name="grant_user_unique")
        ]
        indexes = [
            models.Index(fields=["state", "refresh_at"], name="grant_due"),
            models.Index(fields=["refresh_expires_at"], name="grant_ending"),
        ]

    def __str__(self) -> str:
        return f"grant of {self.user_id} to {self.credential_id} v{self.version}"

    def aad(self, which: str) -> str:
        return f"grant:{self.credential.uid}:{self.user_id}:{which}"

    def access_token(self) -> str:
        return crypto.decrypt(self.access_blob, aad=self.aad("access")) if self.access_blob else ""

    def refresh_token(self) -> str:
        return (
            crypto.decrypt(self.refresh_blob, aad=self.aad("refresh")) if self.refresh_blob else ""
        )

    def seal_access(self, value: str) -> str:
        return crypto.encrypt(value, aad=self.aad("access"))

    def seal_refresh(self, value: str) -> str:
        return crypto.encrypt(value, aad=self.aad("refresh")) if value else ""

    @property
    def refreshable(self) -> bool:
        return bool(self.refresh_blob)


class GrantInvite(models.Model):
    """A one-time link an admin sends to a person without a Zhongkong account: opening it
    starts the platform's authorisation for one credential; it connects one user, once,
    before it expires. Only the link's hash is kept."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("for whom"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    connected_user_id = models.CharField(max_length=128, blank=True)

    def __str__(self) -> str:
        return f"invite {self.pk} to {self.credential_id}"


class Ticket(models.Model):
    """A JS-SDK ticket of one kind for one credential (sealed like a token, handed out and
    used to sign pages), refreshed under a lease with compare-and-set on its version, and
    counted per hour against the platform's cap."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="tickets")
    kind = models.CharField(max_length=16)
    value_blob = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=16, blank=True)
    version = models.PositiveIntegerField(default=0)
    obtained_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    refresh_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.JSONField(default=dict, blank=True)
    hour = models.DateTimeField(null=True, blank=True)  # the hour `fetches` counts
    fetches = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "kind"], name="ticket_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ticket of {self.credential_id} v{self.version}"

    def aad(self) -> str:
        return f"ticket:{self.credential.uid}:{self.kind}"

    def value(self) -> str:
        return crypto.decrypt(self.value_blob, aad=self.aad()) if self.value_blob else ""

    def seal(self, value: str) -> str:
        return crypto.encrypt(value, aad=self.aad())
