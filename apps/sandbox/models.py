from __future__ import annotations

from django.db import models


class SandboxApp(models.Model):
    """An app registered with an emulated platform. Its secret is derived, never stored
    (see core.app_secret), so the sandbox's own tables hold nothing a leak test would find."""

    provider = models.CharField(max_length=32)
    app_id = models.CharField(max_length=128)
    token_lifetime = models.PositiveIntegerField(default=7200)
    # Feishu: a fetch returns the same token until fewer seconds than this remain.
    reissue_window = models.PositiveIntegerField(default=1800)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    qps_limit = models.PositiveIntegerField(null=True, blank=True)
    frozen = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "app_id"], name="sandbox_app_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.app_id}"


class SandboxToken(models.Model):
    """A token the emulated platform issued. Only its hash and serial are kept; the value is
    recomputed from the serial when the platform hands the same token out again."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=32)
    serial = models.PositiveIntegerField()
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    valid_until = models.DateTimeField(help_text="expires_at, or earlier once superseded")
    subject = models.CharField(max_length=64, blank=True, help_text="the user a user token acts as")

    class Meta:
        indexes = [models.Index(fields=["app", "kind", "-serial"], name="sandbox_token_latest")]


class SandboxAuthCode(models.Model):
    """An authorisation code the emulated authorise page issued: it works once, within its
    lifetime, for the redirect address and PKCE challenge it was issued with."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="codes")
    user_id = models.CharField(max_length=64)
    scopes = models.TextField(blank=True)
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField(blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class SandboxRefreshToken(models.Model):
    """A user's refresh token on an emulated platform: it works once (using it issues the
    next one and marks it used) until it expires, unless the user's consent is revoked."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="refresh_tokens")
    user_id = models.CharField(max_length=64)
    scopes = models.TextField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)


class SandboxCounter(models.Model):
    """Token-endpoint calls per app and day: what tests read to count upstream fetches."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="counters")
    day = models.DateField()
    fetches = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "day"], name="sandbox_counter_day")]


class SandboxFault(models.Model):
    """A fault a test asks for: the next matching requests misbehave."""

    class Kind(models.TextChoices):
        DELAY = "delay"  # value: milliseconds before answering normally
        STATUS = "status"  # value: HTTP status of a bare gateway error
        RESET = "reset"  # the connection drops after the headers
        LOST_REPLY = "lost_reply"  # the platform acts, then the connection drops: reply lost
        HTML = "html"  # an HTML error page instead of JSON
        TRUNCATED = "truncated"  # valid JSON cut in the middle
        HUGE = "huge"  # value: megabytes of JSON
        NOT_JSON = "not_json"
        DEEP = "deep"  # JSON nested 100,000 levels deep

    provider = models.CharField(max_length=32)
    path_prefix = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.PositiveIntegerField(default=0)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="empty: every time")


class SandboxIdempotency(models.Model):
    """Feishu Project X-IDEM-UUID and Feishu message uuid: first answer per key is replayed."""

    provider = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    body_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "key"], name="sandbox_idempotency_key")
        ]


class SandboxBot(models.Model):
    """A group bot, robot or event-push integration of an emulated platform (or a generic
    webhook receiver). Its address carries a key, of which only the hash is kept; its
    signing secret is derived from the key (core.bot_secret) like an app's, never stored."""

    platform = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)
    signed = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "key_hash"], name="sandbox_bot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.platform} bot {self.key_hash[:8]}"


class SandboxMessage(models.Model):
    """What a bot received and accepted: what tests assert was delivered."""

    bot = models.ForeignKey(SandboxBot, on_delete=models.CASCADE, related_name="messages")
    body = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
