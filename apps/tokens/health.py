"""Token health: the one definition every page uses (token list and detail, credential list,
overview). A stopped credential (refused secret, daily cap) is a failure everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    HEALTHY = "ok"
    REFRESHING = "refreshing"  # a fetch is under way (a lease is held); the token is valid
    WARNING = "warning"  # the last refresh failed; the token held is still valid
    FAILING = "failing"  # refreshes fail and no valid token is held; retried with backoff
    STOPPED = "stopped"  # not fetched until the credential is fixed or the daily cap resets
    EXPIRED = "expired"
    NEVER = "none"  # not fetched yet
    DISABLED = "disabled"


FAILURES = frozenset({State.FAILING, State.STOPPED, State.EXPIRED})


@dataclass(frozen=True)
class Health:
    state: State
    reason: str = ""  # for STOPPED: "credential" or "quota"
    resumes_at: datetime | None = None  # next attempt (FAILING, STOPPED by the daily cap)

    @property
    def failure(self) -> bool:
        return self.state in FAILURES


def token_health(credential, token, now: datetime) -> Health:
    if not credential.enabled:
        return Health(State.DISABLED)
    valid = token is not None and token.expires_at is not None and token.expires_at > now
    if token is not None and token.blocked_reason:
        until = token.blocked_until or token.retry_at
        return Health(
            State.STOPPED,
            token.blocked_reason,
            None if token.blocked_reason == "credential" else until,
        )
    if token is not None and token.last_error:
        if valid:
            return Health(State.WARNING)
        return Health(State.FAILING, resumes_at=token.retry_at)
    if token is None or not token.version:
        return Health(State.NEVER)
    if not valid:
        return Health(State.EXPIRED)
    if token.lease_until is not None and token.lease_until > now:
        return Health(State.REFRESHING)
    return Health(State.HEALTHY)
