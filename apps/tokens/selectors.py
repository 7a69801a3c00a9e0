from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

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


def token_rows(user: User) -> list[dict]:
    """Token status of every token-using credential the user may see (two queries)."""
    credentials = [
        c
        for c in Credential.objects.visible_to(user).order_by("slug")
        if c.platform.uses_token_for(c.public_values)
    ]
    tokens = {
        t.credential_id: t
        for t in AccessToken.objects.filter(credential__in=[c.pk for c in credentials])
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
