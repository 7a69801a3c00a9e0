"""Writes on credentials. Each service owns its transaction and records its audit event;
secret values reach the audit log only as fingerprints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.accounts.models import Role
from apps.accounts.services import ReauthLocked, user_reauthenticate
from apps.audit.models import AuditEvent
from apps.audit.services import Actor, fingerprint, record
from apps.core import crypto, generation
from apps.providers.base import Decoded, ProviderError
from apps.providers.client import probe
from apps.providers.guard import Refused, validate_base_url
from apps.providers.registry import get_provider

from .models import Credential, KeyCanary
from .signals import credential_changed, token_fetch_refused, token_fetched

if TYPE_CHECKING:
    from apps.accounts.models import User


def _audit(action: str, credential: Credential, by: User | None, **kwargs) -> None:
    record(
        action=action,
        actor=Actor.user(by) if by else Actor.system(),
        target_type="credential",
        target_id=credential.slug,
        details={"provider": credential.provider, **kwargs.pop("details", {})},
        **kwargs,
    )


def _check_base_url(base_url: str) -> None:
    """Every way of saving a base URL checks it (the form shows the same reason)."""
    if base_url:
        try:
            validate_base_url(base_url, internal=settings.CONSOLE_INTERNAL_TARGETS)
        except Refused as exc:
            raise ValueError(f"base URL refused: {exc}") from None


@transaction.atomic
def credential_create(
    *,
    by: User | None,
    provider: str,
    name: str,
    slug: str,
    environment: str,
    base_url: str = "",
    public: Mapping[str, str],
    secrets: Mapping[str, str],
    notes: str = "",
    enabled: bool = True,
    shared_with_developers: bool = False,
    allowed_users=(),
) -> Credential:
    _check_base_url(base_url)
    credential = Credential(
        provider=provider,
        name=name,
        slug=slug,
        environment=environment,
        base_url=base_url,
        public_values=dict(public),
        notes=notes,
        enabled=enabled,
        shared_with_developers=shared_with_developers,
        created_by=by,
        updated_by=by,
    )
    for field, value in secrets.items():
        if value:
            credential.set_secret(field, value)
    credential.save()
    credential.allowed_users.set(allowed_users)
    _audit(
        "credential.create",
        credential,
        by,
        secrets={f: v for f, v in secrets.items() if v},
        details={"fields": sorted([*public, *(f for f, v in secrets.items() if v)])},
    )
    return credential


@transaction.atomic
def credential_update(
    *,
    credential: Credential,
    by: User | None,
    changes: Mapping[str, Any],
    public: Mapping[str, str],
    secrets: Mapping[str, str],
    allowed_users=None,
) -> list[str]:
    """Apply changes; a secret is replaced only when a new value is given. Returns the names
    of the changed fields (the audit keeps those names, never values)."""
    old_slug = credential.slug
    _check_base_url(changes.get("base_url", ""))
    changed = [name for name, value in changes.items() if getattr(credential, name) != value]
    for name in changed:
        setattr(credential, name, changes[name])
    changed += [
        f"public.{k}"
        for k in sorted(set(public) | set(credential.public_values))
        if public.get(k, "") != credential.public_values.get(k, "")
    ]
    credential.public_values = dict(public)
    replaced = {field: value for field, value in secrets.items() if value}
    for field, value in replaced.items():
        credential.set_secret(field, value)
    changed += [f"secret.{field}" for field in sorted(replaced)]
    if allowed_users is not None:
        before = set(credential.allowed_users.values_list("pk", flat=True))
        after = {u.pk for u in allowed_users}
        if before != after:
            credential.allowed_users.set(allowed_users)
            changed.append("allowed_users")
    if changed:
        credential.updated_by = by
        credential.save()
        _audit(
            "credential.update",
            credential,
            by,
            secrets=replaced,
            details={"changed": changed},
        )
        _changed(credential, old_slug)
    return changed


def _changed(credential: Credential, *old_slugs: str | None) -> None:
    generation.advance()  # cached entries of the credential are no longer used anywhere
    for slug in {credential.slug, *(s for s in old_slugs if s)}:
        transaction.on_commit(lambda slug=slug: credential_changed.send(Credential, slug=slug))


@transaction.atomic
def credential_set_enabled(*, credential: Credential, enabled: bool, by: User | None) -> None:
    if credential.enabled == enabled:
        return
    credential.enabled = enabled
    credential.updated_by = by
    credential.save(update_fields=["enabled", "updated_by", "updated_at"])
    _audit("credential.enable" if enabled else "credential.disable", credential, by)
    _changed(credential)


@transaction.atomic
def credential_delete(*, credential: Credential, by: User | None) -> None:
    """Soft delete: the row stays so the audit trail keeps its subject; the slug is freed."""
    credential.deleted_at = timezone.now()
    credential.enabled = False
    original = credential.slug
    credential.slug = f"{original}--deleted-{credential.pk}"[:80]
    credential.secret_blobs, credential.secret_hints = {}, {}
    credential.save()
    record(
        action="credential.delete",
        actor=Actor.user(by),
        target_type="credential",
        target_id=original,
        details={"provider": credential.provider},
    )
    _changed(credential, original)


def credential_reveal(
    *, credential: Credential, field: str, by: User, password: str, code: str = ""
) -> str:
    """Admin-only, after re-entering the password (and a second-factor code when the admin
    has one). Audited with the value's fingerprint."""
    if by.role != Role.ADMIN:
        raise PermissionDenied
    try:
        correct = user_reauthenticate(user=by, password=password, code=code)
    except ReauthLocked:
        with transaction.atomic():
            _audit(
                "credential.reveal",
                credential,
                by,
                outcome=AuditEvent.Outcome.DENIED,
                details={"field": field, "reason": "too many wrong passwords"},
            )
        raise
    if not correct:
        with transaction.atomic():
            _audit(
                "credential.reveal",
                credential,
                by,
                outcome=AuditEvent.Outcome.DENIED,
                details={"field": field, "reason": "wrong password or code"},
            )
        raise PermissionDenied("password")
    value = credential.secret_values()[field]
    with transaction.atomic():
        _audit(
            "credential.reveal",
            credential,
            by,
            secrets={field: value},
            details={"field": field},
        )
    return value


@dataclass
class ConnectionTest:
    ok: bool
    decoded: Decoded | None
    expires_in: int | None = None
    token_fingerprint: str = ""
    error: str = ""


@sensitive_variables("values", "grant")
def credential_test(*, credential: Credential, by: User | None) -> ConnectionTest:
    """Fetch a token (or make the platform's cheapest authenticated call) and decode it."""
    values = credential.adapter_values()
    try:
        decoded, grant = probe(
            credential.platform,
            base_url=credential.effective_base_url,
            creds=values,
            internal=settings.CONSOLE_INTERNAL_TARGETS,
        )
        result = ConnectionTest(
            decoded.ok,
            decoded,
            grant.expires_in if grant else None,
            fingerprint(grant.access_token)[:16] if grant else "",
        )
    except ProviderError as exc:
        result, grant = ConnectionTest(False, exc.decoded, error=str(exc)), None
    with transaction.atomic():
        _audit(
            "credential.test",
            credential,
            by,
            outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
            details={
                "code": result.decoded.code if result.decoded else None,
                "trace_id": result.decoded.trace_id if result.decoded else "",
            },
        )
    if not result.ok and result.decoded is not None:
        token_fetch_refused.send(sender=Credential, credential=credential, decoded=result.decoded)
    if result.ok and grant is not None:  # the token it fetched is kept, not thrown away
        token_fetched.send(
            sender=Credential,
            credential=credential,
            grant=grant,
            actor=Actor.user(by) if by else None,
        )
    return result


def ensure_key_canary() -> None:
    if not KeyCanary.objects.exists():
        KeyCanary.objects.create(ciphertext=crypto.encrypt(KeyCanary.PLAINTEXT, aad="canary"))


def credential_ensure_demo(*, provider: str, app_id: str, secret: str, base_url: str) -> bool:
    """Create the `demo-<provider>` credential for a sandbox app unless it exists."""
    slug = f"demo-{provider}"
    if Credential.objects.filter(slug=slug).exists():
        return False
    platform = get_provider(provider)
    values = platform.sample_values(app_id, secret)
    secret_names = set(platform.secret_fields)
    credential_create(
        by=None,
        provider=provider,
        name=f"Demo · {platform.name_en}",
        slug=slug,
        environment="test",
        base_url=base_url,
        shared_with_developers=True,
        public={k: v for k, v in values.items() if k not in secret_names},
        secrets={k: v for k, v in values.items() if k in secret_names},
        notes="Sandbox credential created by bootstrap.",
    )
    return True
