from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.vault.models import Credential

# The platforms people sign in with, and the allauth provider id each is served under.
PLATFORMS = {"feishu": "feishu_signin", "dingtalk": "dingtalk_signin", "wecom": "wecom_signin"}


class PlatformSignIn(models.Model):
    """An admin's choice: people may sign in with this platform, through this credential's
    app (its id and secret from the vault; WeCom's app token from the token centre)."""

    class DefaultRole(models.TextChoices):
        NONE = "", _("No role: an admin grants one")
        DEVELOPER = "developer", _("Developer")
        AUDITOR = "auditor", _("Auditor")

    provider = models.CharField(max_length=32, unique=True)
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=True)
    default_role = models.CharField(max_length=16, choices=DefaultRole.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"sign in with {self.provider} via {self.credential_id}"

    @property
    def provider_id(self) -> str:
        return PLATFORMS[self.provider]

    @classmethod
    def active(cls, provider: str) -> PlatformSignIn | None:
        return (
            cls.objects.select_related("credential")
            .filter(provider=provider, enabled=True, credential__enabled=True)
            .filter(credential__deleted_at__isnull=True)
            .first()
        )
