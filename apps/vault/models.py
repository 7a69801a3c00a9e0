from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.models import SecretHolder
from apps.providers.registry import get_provider, provider_choices

if TYPE_CHECKING:
    from apps.accounts.models import User


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    TEST = "test", _("Test")


class CredentialQuerySet(models.QuerySet):
    def alive(self) -> CredentialQuerySet:
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user: User) -> CredentialQuerySet:
        """Admins see every credential; developers those shared with them; nobody else any."""
        role = getattr(user, "role", None)
        if role == Role.ADMIN:
            return self.alive()
        if role == Role.DEVELOPER:
            return (
                self.alive()
                .filter(Q(shared_with_developers=True) | Q(allowed_users=user))
                .distinct()
            )
        return self.none()


class Credential(SecretHolder):
    """One app's credentials on one platform. Secret fields are ciphertext (crypto.py), bound
    to this credential's uid and the field name; `secret_values()` is the only decryption."""

    aad_prefix = "credential"

    provider = models.CharField(_("platform"), max_length=32, choices=provider_choices())
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        help_text=_("Business servers fetch the token by this name."),
    )
    environment = models.CharField(
        _("environment"), max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    base_url = models.URLField(
        _("base URL"), blank=True, help_text=_("Empty: the platform's default.")
    )
    public_values = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    shared_with_developers = models.BooleanField(_("all developers may use it"), default=False)
    allowed_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="shared_credentials",
        verbose_name=_("developers who may use it"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "name"]
        indexes = [models.Index(fields=["provider", "environment"], name="credential_filter")]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def platform(self):
        return get_provider(self.provider)

    @property
    def effective_base_url(self) -> str:
        return self.base_url or self.platform.base_url_for(self.public_values or {})

    def adapter_values(self) -> dict[str, str]:
        """Everything an adapter needs: public values plus decrypted secrets."""
        return {**self.public_values, **self.secret_values()}


class KeyCanary(models.Model):
    """A known plaintext under the current keys; the system check decrypts it at start-up."""

    PLAINTEXT = "zhongkong-key-canary"
    ciphertext = models.TextField()

    def __str__(self) -> str:
        return "key canary"
