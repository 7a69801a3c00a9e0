from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from apps.providers.registry import PROVIDERS
from apps.vault.models import Credential

from .health import State, token_health
from .models import AccessToken

if TYPE_CHECKING:
    from apps.accounts.models import User


def credentials_due(until: datetime) -> list[tuple[int, datetime | None]]:
    """(credential id, planned refresh time) of tokens to fetch by `until`: due rows (indexed
    on refresh_at), plus token-using credentials that never had a row (None: now)."""
    due = list(
        AccessToken.objects.due_for_refresh(until)
        .exclude(blocked_reason="credential", credential__updated_at__lte=F("last_error_at"))
        .values_list("credential_id", "refresh_at")
    )
    fresh = (
        Credential.objects.alive()
        .filter(enabled=True, access_token__isnull=True)
        .only("pk", "provider", "public_values")
    )
    due += [(c.pk, None) for c in fresh if c.platform.uses_token_for(c.public_values)]
    return due


CARD = ("pk", "slug", "name", "provider", "public_values", "enabled", "environment")


def token_credentials(user: User) -> list[Credential]:
    """Every token-using credential the user may see, by slug (one query, the columns the
    token pages show)."""
    return [
        c
        for c in Credential.objects.visible_to(user).only(*CARD).order_by("slug")
        if c.platform.uses_token_for(c.public_values)
    ]


def token_credential_ids(user: User) -> list[int]:
    """The ids of `token_credentials(user)`, without building a model object for each (a
    page of them is loaded with `credentials_by_id`)."""
    rows = (
        Credential.objects.visible_to(user)
        .order_by("slug")
        .values_list("pk", "provider", "public_values")
    )
    return [
        pk
        for pk, provider, values in rows
        if provider in PROVIDERS and PROVIDERS[provider].uses_token_for(values or {})
    ]


def credentials_by_id(ids: list[int]) -> list[Credential]:
    found = Credential.objects.only(*CARD).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def token_rows(user: User) -> list[dict]:
    """Token status of every token-using credential the user may see (two queries)."""
    return rows_for(token_credentials(user))


def rows_for(credentials: list[Credential]) -> list[dict]:
    """Token status of these credentials (one query)."""
    tokens = {
        t.credential_id: t
        for t in AccessToken.objects.filter(credential__in=[c.pk for c in credentials]).defer(
            "value_blob", "previous_blob"
        )
    }
    now = timezone.now()
    rows = []
    for credential in credentials:
        token = tokens.get(credential.pk)
        valid = token is not None and token.expires_at is not None and token.expires_at > now
        health = token_health(credential, token, now)
        rows.append(
            {
                "credential": credential,
                "token": token,
                "valid": valid,
                "health": health.state,
                "status": health,
                "cap": credential.platform.refresh_policy.daily_cap,
            }
        )
    return rows


def token_health_summary(rows: list[dict]) -> dict[str, int]:
    """Counts per state of `token_rows(...)`, and how many are failures."""
    summary = {str(state): 0 for state in State}
    failures = 0
    for row in rows:
        summary[str(row["health"])] += 1
        failures += row["status"].failure
    summary["failures"] = failures
    return summary
