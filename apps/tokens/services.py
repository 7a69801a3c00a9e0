"""The refresh service every caller uses: beat, passive refresh, the console, "refresh now".

Single-flight across processes and hosts with a lease on the token row plus compare-and-set
on its version (plain UPDATE ... WHERE, so it holds on PostgreSQL and SQLite alike): one
caller claims the lease and fetches upstream, outside any transaction; the others wait for
the version to move and share the result. Compare-and-refresh: a caller naming the token it
saw rejected only causes a fetch while that token is still the current one.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, fingerprint, record
from apps.core import generation
from apps.core.metrics import TOKEN_HANDOUTS, TOKEN_REFRESHES
from apps.providers.base import Classification, Decoded, ProviderError, RefreshPolicy
from apps.providers.client import fetch_token
from apps.vault.models import Credential

from . import cache as token_cache
from .models import AccessToken, ClientKey, HandoutCount

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

SAFETY = timedelta(seconds=1)  # never hand out a token this close to its expiry
# Why fetching stopped, as the token API reports it (the same code as when it first stopped).
BLOCKED_CODES = {"quota": "quota_exhausted", "credential": "credential_invalid"}


class TokenUnavailable(Exception):
    """No valid token can be served. `code` is what the token API reports."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        decoded: Decoded | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.code, self.decoded, self.retry_after = code, decoded, retry_after


@dataclass(frozen=True)
class Served:
    token: str
    row: AccessToken


def _owner() -> str:
    return (
        f"{socket.gethostname()[:30]}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.TOKEN_LEASE_SECONDS)


def _row(credential_id: int) -> AccessToken:
    row = (
        AccessToken.objects.select_related("credential").filter(credential_id=credential_id).first()
    )
    if row is None:
        try:
            with transaction.atomic():
                AccessToken.objects.create(credential_id=credential_id)
        except IntegrityError:
            pass  # created by a concurrent caller
        row = AccessToken.objects.select_related("credential").get(credential_id=credential_id)
    return row


def is_valid(row: AccessToken, now: datetime) -> bool:
    return bool(row.value_blob) and row.expires_at is not None and row.expires_at > now + SAFETY


def plan_refresh(policy: RefreshPolicy, obtained: datetime, expires_in: int) -> datetime:
    """Refresh ahead of expiry by the platform's margin (at most a quarter of the lifetime, so
    short-lived tokens work too), minus up to 20% jitter so credentials don't move in step."""
    margin = min(policy.refresh_before, expires_in * 0.25)
    jitter = random.uniform(0, margin * 0.2)  # noqa: S311 - spreading load, not security
    return obtained + timedelta(seconds=max(0.0, expires_in - margin - jitter))


def _blocked(row: AccessToken, now: datetime) -> bool:
    if row.blocked_reason == "credential":
        # A wrong secret stays wrong until someone changes the credential.
        return row.last_error_at is not None and row.credential.updated_at <= row.last_error_at
    return row.blocked_until is not None and row.blocked_until > now


def _serve_or_raise(row: AccessToken, now: datetime, code: str, message: str) -> AccessToken:
    if is_valid(row, now):
        return row
    retry = row.retry_at or row.blocked_until
    raise TokenUnavailable(
        code,
        message,
        retry_after=(retry - now).total_seconds()
        if retry and retry > now
        else 1.0
        if code == "refresh_in_progress"
        else None,
    )


def _serve_unless_rejected(
    row: AccessToken, now: datetime, code: str, message: str, rejected_is_current: bool
) -> AccessToken:
    """Serve the current token unless the caller said the platform rejected it; then raise
    with the platform's last error and when to try again."""
    if not rejected_is_current:
        return _serve_or_raise(row, now, code, message)
    retry = row.retry_at or row.blocked_until
    decoded = None
    if row.last_error:
        decoded = Decoded(
            ok=False,
            http_status=0,
            classification=Classification(
                row.last_error.get("classification") or Classification.RETRYABLE
            ),
            code=row.last_error.get("code"),
            message=row.last_error.get("message", ""),
            explanation_zh=row.last_error.get("explanation_zh", ""),
            explanation_en=row.last_error.get("explanation_en", ""),
            trace_id=row.last_error.get("trace_id", ""),
            problem=row.last_error.get("problem", ""),
        )
    raise TokenUnavailable(
        code,
        message,
        decoded=decoded,
        retry_after=(retry - now).total_seconds() if retry and retry > now else 5.0,
    )


_LONG_WAITERS: tuple[int, threading.BoundedSemaphore] | None = None


def _long_waiters() -> threading.BoundedSemaphore:
    """The process's places for requests that keep waiting on a *slow* fetch."""
    global _LONG_WAITERS
    size = settings.TOKEN_MAX_WAITERS
    if _LONG_WAITERS is None or _LONG_WAITERS[0] != size:
        _LONG_WAITERS = (size, threading.BoundedSemaphore(size))
    return _LONG_WAITERS[1]


def _fetch_age(row: AccessToken) -> float:
    """Seconds since the lease holder took the lease (its fetch started)."""
    started = row.lease_until - _lease()
    return (timezone.now() - started).total_seconds()


def _lease_left(row: AccessToken) -> float | None:
    if row.lease_until is None:
        return None
    return max(1.0, (row.lease_until - timezone.now()).total_seconds())


def _wait_for(pk: int, version: int, deadline: float) -> AccessToken | None:
    """Wait while another caller holds the lease. The new row once its version moved; None
    when the lease lapsed without a new version (its holder died): then try to claim.

    What is bounded is the time threads wait, not how many wait: while the fetch is younger
    than TOKEN_WAIT_FAST (counted from when its holder took the lease) every caller waits
    for it, so a platform answering in well under a second serves all of them; once it is
    older only TOKEN_MAX_WAITERS of the process's threads go on waiting for the slow
    platform and the others answer 503 with Retry-After at once, so a hanging platform
    never holds every thread for longer than that."""
    slot = None
    try:
        while True:
            time.sleep(settings.TOKEN_WAIT_POLL)
            row = AccessToken.objects.select_related("credential").get(pk=pk)
            if row.version != version:
                return row
            if row.lease_until is None or row.lease_until <= timezone.now():
                return None
            if time.monotonic() >= deadline:
                raise TokenUnavailable(
                    "refresh_timeout",
                    "the refresh in progress did not finish in time",
                    retry_after=_lease_left(row),
                )
            if slot is None and _fetch_age(row) >= settings.TOKEN_WAIT_FAST:
                if not _long_waiters().acquire(blocking=False):
                    raise TokenUnavailable(
                        "refresh_in_progress",
                        "a fetch of this token is in progress; retry shortly",
                        retry_after=min(_lease_left(row) or 1.0, 5.0),
                    )
                slot = _long_waiters()
    finally:
        if slot is not None:
            slot.release()


def _short_lived(row: AccessToken, now: datetime, min_life: float) -> bool:
    """Whether the token has less than `min_life` left and a fetch now would renew it."""
    if not min_life or row.expires_at is None:
        return False
    remaining = (row.expires_at - now).total_seconds()
    min_life = token_cache.min_life(min_life, token_cache.lifetime(row))
    credential = row.credential
    policy = credential.platform.policy_for(credential.public_values)
    return remaining < min_life and not (policy and policy.reissues(remaining))


def _answered_rejection(row: AccessToken, rejected_token: str, now: datetime) -> bool:
    """Whether a fetch already answered a rejection of this very token, recently enough
    that its result stands (a platform that handed the token back insists on it)."""
    return (
        bool(row.rejected_fingerprint)
        and row.rejection_until is not None
        and row.rejection_until > now
        and row.rejected_fingerprint == fingerprint(rejected_token)[:16]
    )


def _answer_without_fetch(
    row: AccessToken,
    now: datetime,
    *,
    rejected_token: str | None,
    force: bool,
    min_life: float,
) -> AccessToken | None:
    """The answer when no fetch is wanted (the token is not due, or the rejection was already
    answered) or allowed now (fetching stopped, backing off; these raise when the caller's
    token was rejected and nothing else is held); None when a fetch should be made."""
    valid = is_valid(row, now)
    if rejected_token is not None and valid:
        if row.value() != rejected_token:
            return row  # someone already replaced the rejected token
        if _answered_rejection(row, rejected_token, now):
            return row  # a fetch answered this rejection: the platform kept the token
    if (
        rejected_token is None
        and not force
        and valid
        and row.refresh_at
        and row.refresh_at > now
        and not _short_lived(row, now, min_life)
    ):
        return row  # not due yet
    rejected_is_current = rejected_token is not None and valid and row.value() == rejected_token
    if _blocked(row, now):
        return _serve_unless_rejected(
            row,
            now,
            BLOCKED_CODES.get(row.blocked_reason, "blocked"),
            "token fetching is stopped for this credential",
            rejected_is_current,
        )
    # One attempt per backoff window, whoever asks (a scheduled refresh, a business server's
    # passive refresh, the console, "refresh now"): an outage does not turn every caller
    # into another upstream fetch.
    if row.retry_at and row.retry_at > now:
        return _serve_unless_rejected(
            row,
            now,
            "backing_off",
            "waiting before the next attempt after a failure",
            rejected_is_current,
        )
    return None


def _claim(row: AccessToken, owner: str, now: datetime) -> bool:
    """Take the fetch lease, if no one holds a live one and the row is still this version."""
    return bool(
        AccessToken.objects.filter(pk=row.pk, version=row.version)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_owner=owner, lease_until=now + _lease())
    )


def token_refresh(
    *,
    credential_id: int,
    rejected_token: str | None = None,
    force: bool = False,
    reason: str = "scheduled",
    actor: Actor | None = None,
    wait: bool = True,
    min_life: float = 0.0,
) -> AccessToken:
    """Make sure the credential has a current token, fetching upstream only when needed.

    - `rejected_token`: a caller saw this token rejected; fetch only if it is still current
      and no fetch answered its rejection yet (one fetch per rejected value: every later
      caller naming it gets that fetch's result, `row.reissued` when the platform handed
      the same token back).
    - `force`: fetch even when the current token is not yet due ("refresh now").
    - otherwise fetch when there is no valid token, its planned refresh time has come, or
      it has less than `min_life` seconds left and a fetch would bring a new one (a
      platform that hands the same token back while it is valid cannot renew it early).
    - `wait=False` (a scheduled task): when another caller holds the lease, return at once
      rather than hold a worker thread; the next scan looks again.
    """
    deadline = time.monotonic() + min(settings.TOKEN_LEASE_SECONDS + 5, settings.TOKEN_WAIT_MAX)
    owner = _owner()
    while True:
        row, now = _row(credential_id), timezone.now()
        answer = _answer_without_fetch(
            row, now, rejected_token=rejected_token, force=force, min_life=min_life
        )
        if answer is not None:
            return answer
        if _claim(row, owner, now):
            break
        if not wait:
            return row
        fresher = _wait_for(row.pk, row.version, deadline)
        if fresher is not None and is_valid(fresher, timezone.now()):
            return fresher  # shared the other caller's fetch
    fetched = _fetch(row, owner, reason=reason, actor=actor, rejected_token=rejected_token)
    if rejected_token is not None and fetched.version == row.version:
        # The fetch failed (no new version) and the rejected token is all there is: say
        # so, rather than hand it back as if it were new. (A platform may reissue the same
        # value on success, as Feishu does: that is a new version, marked `reissued`.)
        return _serve_unless_rejected(
            fetched,
            timezone.now(),
            "upstream_failed",
            "the platform refused or failed the token fetch",
            True,
        )
    return fetched


def token_store_tested(*, credential: Credential, grant, actor: Actor | None = None) -> bool:
    """A token "test connection" fetched becomes the current token, as a refresh would keep
    it (the platform issued it and counts it). Skipped, False, while another caller holds
    the lease: its own fetch will be kept."""
    if not issues_tokens(credential) or not grant or not grant.access_token:
        return False
    row, now = _row(credential.pk), timezone.now()
    owner = _owner()
    claimed = (
        AccessToken.objects.filter(pk=row.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_owner=owner, lease_until=now + _lease())
    )
    if not claimed:
        return False
    _store_grant(row, owner, grant, reason="test", actor=actor or Actor.system("token-test"))
    return True


def token_note_tested_refusal(*, credential: Credential, decoded: Decoded) -> None:
    """A "test connection" the platform refused: shown on the token page as the last error
    (the schedule is left alone; a refresh that fails the same way stops it itself)."""
    if not issues_tokens(credential):
        return
    row = _row(credential.pk)
    AccessToken.objects.filter(pk=row.pk).update(
        last_error=_last_error(decoded, decoded.classification, "test"),
        last_error_at=timezone.now(),
    )


def _cap_reached(row: AccessToken) -> bool:
    """Whether today's successful fetches reached the platform's documented daily cap."""
    today = timezone.localdate()
    if row.fetch_day != today:
        AccessToken.objects.filter(pk=row.pk).update(fetch_day=today, fetches_today=0)
        row.fetch_day, row.fetches_today = today, 0
    cap = row.credential.platform.refresh_policy.daily_cap
    return cap is not None and row.fetches_today >= cap


def _count_fetch(row: AccessToken) -> None:
    """Count a token the platform issued. Only issued tokens count against the cap: a fetch
    that failed on the way (timeout, reset, 5xx) did not get one, and counting it would let
    an outage use up the day's cap by itself."""
    AccessToken.objects.filter(pk=row.pk).update(fetches_today=F("fetches_today") + 1)


def _next_midnight(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


@sensitive_variables("grant", "old_value")
def _fetch(
    row: AccessToken,
    owner: str,
    *,
    reason: str,
    actor: Actor | None,
    rejected_token: str | None = None,
) -> AccessToken:
    credential: Credential = row.credential
    provider = credential.platform
    actor = actor or Actor.system(f"token-{reason}")
    if _cap_reached(row):
        decoded = Decoded(
            ok=False,
            http_status=0,
            classification=Classification.QUOTA_EXHAUSTED,
            problem="daily fetch cap reached (counted by Zhongkong)",
        )
        return _failed(row, owner, ProviderError("daily cap", decoded=decoded), reason, actor)
    try:
        grant = fetch_token(
            provider,
            base_url=credential.effective_base_url,
            creds=credential.adapter_values(),
            internal=settings.CONSOLE_INTERNAL_TARGETS,
            deadline=settings.TOKEN_FETCH_TIMEOUT,
        )
    except ProviderError as exc:
        return _failed(row, owner, exc, reason, actor)
    except Exception as exc:  # a bug or a broken secret: never leave the lease dangling
        AccessToken.objects.filter(pk=row.pk, lease_owner=owner).update(
            lease_owner="", lease_until=None
        )
        raise exc
    return _store_grant(
        row, owner, grant, reason=reason, actor=actor, rejected_token=rejected_token
    )


def _rejection_fields(
    credential: Credential, rejected_token: str | None, grant, expires_at: datetime, now: datetime
) -> dict:
    """What the row remembers of the rejection this fetch answered: later callers naming the
    same token get this fetch's result until the window closes (the platform's reissue rule
    decides how long it keeps handing the same token back; at least TOKEN_REJECTION_WINDOW)."""
    if rejected_token is None:
        return {"rejected_fingerprint": "", "rejection_until": None, "reissued": False}
    until = now + timedelta(seconds=settings.TOKEN_REJECTION_WINDOW)
    reissued = grant.access_token == rejected_token
    policy = credential.platform.policy_for(credential.public_values)
    kept_until = policy.reissued_until(expires_at.timestamp()) if policy and reissued else None
    if kept_until is not None:
        until = max(until, datetime.fromtimestamp(kept_until, tz=UTC))
    return {
        "rejected_fingerprint": fingerprint(rejected_token)[:16],
        "rejection_until": min(until, expires_at),
        "reissued": reissued,
    }


@sensitive_variables("grant", "old_value", "rejected_token")
def _store_grant(
    row: AccessToken,
    owner: str,
    grant,
    *,
    reason: str,
    actor: Actor,
    rejected_token: str | None = None,
) -> AccessToken:
    """Keep a token the platform issued as the credential's current one (the lease held by
    `owner`), count it against the daily cap, audit it."""
    credential: Credential = row.credential
    provider = credential.platform
    _count_fetch(row)
    now = timezone.now()
    policy = provider.refresh_policy
    old_value = row.value() if is_valid(row, now) else ""
    grace_until = (
        _grace_until(row, policy, now) if old_value not in ("", grant.access_token) else None
    )
    expires_at = now + timedelta(seconds=grant.expires_in)
    rejection = _rejection_fields(credential, rejected_token, grant, expires_at, now)
    with transaction.atomic():
        updated = AccessToken.objects.filter(pk=row.pk, lease_owner=owner).update(
            **rejection,
            value_blob=row.seal(grant.access_token),
            previous_blob=row.seal_previous(old_value if grace_until else ""),
            previous_valid_until=grace_until,
            fingerprint=fingerprint(grant.access_token)[:16],
            token_type=grant.token_type,
            version=F("version") + 1,
            obtained_at=now,
            expires_at=expires_at,
            refresh_at=plan_refresh(policy, now, grant.expires_in),
            lease_owner="",
            lease_until=None,
            failures=0,
            retry_at=None,
            blocked_until=None,
            blocked_reason="",
            last_error={},
            last_error_at=None,
        )
        if updated:
            transaction.on_commit(lambda: token_cache.forget_token(credential.slug))
            TOKEN_REFRESHES.labels(provider.key, "success", reason).inc()
            details = {"reason": reason, "expires_in": grant.expires_in, "version": row.version + 1}
            if rejected_token is not None:
                details["answered_rejection"] = True
            if rejection["reissued"]:
                details["reissued"] = True
            record(
                action="token.refresh",
                actor=actor,
                target_type="credential",
                target_id=credential.slug,
                secrets={"token": grant.access_token},
                details={"provider": provider.key, **details},
            )
    return AccessToken.objects.select_related("credential").get(pk=row.pk)


def _grace_until(row: AccessToken, policy, now: datetime) -> datetime:
    """How long the token being replaced stays valid for callers that still hold it: to its
    own expiry, or as long as the platform honours an old token after a new one is issued."""
    if policy.old_token_grace is None:
        return row.expires_at
    return min(row.expires_at, now + timedelta(seconds=policy.old_token_grace))


def _last_error(decoded: Decoded | None, classification, reason: str) -> dict:
    """What the token page and the API show of a failed fetch (never a secret: the adapter's
    decoded reply, already free of the credential's values)."""
    return {
        "code": decoded.code if decoded else None,
        "message": (decoded.message if decoded else "")[:300],
        "classification": str(classification),
        "trace_id": decoded.trace_id if decoded else "",
        "explanation_zh": decoded.explanation_zh if decoded else "",
        "explanation_en": decoded.explanation_en if decoded else "",
        "problem": decoded.problem if decoded else "",
        "reason": reason,
    }


def _next_attempt(exc: ProviderError, classification, failures: int, now: datetime) -> dict:
    """When fetching may be tried again: stopped until someone fixes the credential (a
    permanent refusal), the next day (a daily cap), or after a jittered exponential backoff
    (or the platform's Retry-After)."""
    decoded = exc.decoded
    if (
        classification in (Classification.CREDENTIAL_INVALID, Classification.CLIENT_ERROR)
        or exc.permanent
    ):
        return {"blocked_reason": "credential", "retry_at": None}
    if classification is Classification.QUOTA_EXHAUSTED:
        return {"blocked_reason": "quota", "blocked_until": _next_midnight(now)}
    wait = (
        decoded.retry_after
        if decoded and decoded.retry_after
        else min(settings.TOKEN_BACKOFF_BASE * 2 ** (failures - 1), settings.TOKEN_BACKOFF_MAX)
    )
    return {"retry_at": now + timedelta(seconds=wait * random.uniform(0.5, 1.0))}  # noqa: S311


def _failed(
    row: AccessToken, owner: str, exc: ProviderError, reason: str, actor: Actor
) -> AccessToken:
    now = timezone.now()
    decoded = exc.decoded
    classification = decoded.classification if decoded else Classification.RETRYABLE
    TOKEN_REFRESHES.labels(row.credential.provider, "failure", reason).inc()
    changes = {
        "lease_owner": "",
        "lease_until": None,
        "failures": row.failures + 1,
        "last_error_at": now,
        "last_error": _last_error(decoded, classification, reason),
        **_next_attempt(exc, classification, row.failures + 1, now),
    }
    with transaction.atomic():
        AccessToken.objects.filter(pk=row.pk, lease_owner=owner).update(**changes)
        transaction.on_commit(lambda: token_cache.forget_token(row.credential.slug))
        record(
            action="token.refresh",
            actor=actor,
            outcome=AuditEvent.Outcome.FAILURE,
            target_type="credential",
            target_id=row.credential.slug,
            details={
                "provider": row.credential.provider,
                "reason": reason,
                **{
                    k: changes["last_error"][k]
                    for k in ("code", "classification", "trace_id", "problem")
                },
            },
        )
    logger.warning(
        "token refresh failed for %s: %s",
        row.credential.slug,
        changes["last_error"]["code"] or changes["last_error"]["problem"],
    )
    row = AccessToken.objects.select_related("credential").get(pk=row.pk)
    return _serve_or_raise(
        row,
        now,
        "upstream_failed"
        if classification not in (Classification.CREDENTIAL_INVALID, Classification.QUOTA_EXHAUSTED)
        else str(classification),
        "the platform refused or failed the token fetch",
    )


def handout_count(*, client_key_id: int, credential_id: int) -> None:
    """Count one hand-out in its minute: in the shared cache when there is one (no database
    write on the hot path), else with one UPDATE on the minute's row; and in /metrics (the
    in-memory path counts its own there, when its ledger reaches Redis)."""
    TOKEN_HANDOUTS.labels(client_key_id, credential_id).inc()
    if token_cache.shared():
        key = token_cache.handout_key(int(time.time() // 60), client_key_id, credential_id)
        cache.add(key, 0, 7200)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, 7200)
        return
    minute = timezone.now().replace(second=0, microsecond=0)
    key = {"client_key_id": client_key_id, "credential_id": credential_id, "minute": minute}
    if HandoutCount.objects.filter(**key).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            HandoutCount.objects.create(count=1, **key)
    except IntegrityError:
        HandoutCount.objects.filter(**key).update(count=F("count") + 1)


def _handouts_from_cache(before: datetime) -> None:
    """Move finished minutes' counts from the cache into HandoutCount rows (idempotent: the
    row's unique key makes a second move of the same minute a no-op)."""
    last = int(before.timestamp() // 60) - 1  # a minute is done once the next one ended
    pairs = list(ClientKey.credentials.through.objects.values_list("clientkey_id", "credential_id"))
    for minute in range(last - 120, last):
        keys = {token_cache.handout_key(minute, k, c): (k, c) for k, c in pairs}
        counts = cache.get_many(list(keys)) if keys else {}
        for cache_key, count in counts.items():
            if count:
                client_key_id, credential_id = keys[cache_key]
                start = datetime.fromtimestamp(minute * 60, tz=UTC)
                try:
                    with transaction.atomic():
                        HandoutCount.objects.create(
                            client_key_id=client_key_id,
                            credential_id=credential_id,
                            minute=start,
                            count=count,
                        )
                except IntegrityError:
                    pass  # moved by an earlier run that stopped before deleting
                used = min(start + timedelta(seconds=59), before)
                ClientKey.objects.filter(pk=client_key_id).filter(
                    Q(last_used_at__isnull=True) | Q(last_used_at__lt=used)
                ).update(last_used_at=used)
            cache.delete(cache_key)
        # The minute is in the database now: the web processes' ledgers may free its slots
        # (until they see this, they keep them and send them again).
        cache.set(token_cache.moved_key(minute), 1, 7200)


def handouts_audit(*, before: datetime) -> int:
    """One audit event per client key, credential and finished minute, with its count."""
    if token_cache.on_redis():
        ledger = token_cache.ledger()
        ledger.flush()  # this process's own counts (a web process in tests and `runall`)
        ledger.adopt()  # and those of web processes on this host that died
    if token_cache.shared():
        _handouts_from_cache(before)
    cutoff = before.replace(second=0, microsecond=0)
    written = 0
    pending = (
        HandoutCount.objects.filter(audited=False, minute__lt=cutoff)
        .select_related("client_key", "credential")
        .order_by("minute", "pk")
    )
    for item in pending.iterator():
        with transaction.atomic():
            if not HandoutCount.objects.filter(pk=item.pk, audited=False).update(audited=True):
                continue  # another worker took it
            record(
                action="token.handout",
                actor=Actor.client_key(item.client_key_id, item.client_key.name),
                target_type="credential",
                target_id=item.credential.slug,
                details={
                    "minute": item.minute.isoformat(),
                    "count": item.count,
                    "provider": item.credential.provider,
                },
            )
            written += 1
    return written


def token_current(
    *, credential: Credential, actor: Actor | None = None, min_life: float = 0.0
) -> Served:
    """The token to hand out now: the current one while valid (and, with `min_life`, while
    it has that long left or cannot be renewed early), else a fresh one. A fetch that fails
    leaves the current token served for the life it honestly has left."""
    row = _row(credential.pk)
    now = timezone.now()
    if not is_valid(row, now) or _short_lived(row, now, min_life):
        row = token_refresh(
            credential_id=credential.pk, reason="on_demand", actor=actor, min_life=min_life
        )
        if not is_valid(row, timezone.now()):
            raise TokenUnavailable("upstream_failed", "no valid token")
    return Served(row.value(), row)


def token_for_use(*, credential: Credential, actor: Actor | None = None) -> str:
    """`token_current`'s token, read from the shared cache when it is there (the hot path
    of the console); the database and a refresh otherwise."""
    cached = token_cache.cached_token(credential.slug, SAFETY.total_seconds())
    return cached if cached is not None else token_current(credential=credential, actor=actor).token


def issues_tokens(credential: Credential) -> bool:
    """Whether the credential trades its secret for a token (what a client key fetches)."""
    return credential.platform.uses_token_for(credential.public_values)


def client_key_create(
    *,
    name: str,
    credentials,
    by: User | None = None,
    expires_at: datetime | None = None,
    user_tokens: bool = False,
    user_ids: tuple[str, ...] = (),
) -> tuple[ClientKey, str]:
    """Create a client key; the raw key is returned once and only its hash is kept.
    `user_tokens`: it may also read the tokens of users connected to its credentials (only
    those in `user_ids`, when given)."""
    tokenless = sorted(c.slug for c in credentials if not issues_tokens(c))
    if tokenless:
        raise ValueError(f"these credentials have no token to hand out: {', '.join(tokenless)}")
    raw = ClientKey.PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ClientKey.objects.create(
            name=name,
            key_prefix=raw[:12],
            key_hash=ClientKey.hash(raw),
            expires_at=expires_at,
            created_by=by,
            user_tokens=user_tokens,
            user_ids=" ".join(user_ids),
        )
        key.credentials.set(credentials)
        transaction.on_commit(lambda: token_cache.forget_client_key(key.key_hash))
        record(
            action="client_key.create",
            actor=Actor.user(by) if by else Actor.system("cli"),
            target_type="client_key",
            target_id=key.pk,
            secrets={"client_key": raw},
            details={
                "name": name,
                "credentials": sorted(c.slug for c in credentials),
                "expires_at": expires_at.isoformat() if expires_at else None,
                "user_tokens": user_tokens,
                "user_ids": list(user_ids),
            },
        )
    return key, raw


def client_key_revoke(*, key: ClientKey, by: User | None) -> None:
    with transaction.atomic():
        if ClientKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            generation.advance()  # every process stops using its cached entry of the key
            transaction.on_commit(lambda: token_cache.forget_client_key(key.key_hash))
            record(
                action="client_key.revoke",
                actor=Actor.user(by) if by else Actor.system("cli"),
                target_type="client_key",
                target_id=key.pk,
                details={"name": key.name},
            )


def client_key_used(*, client_key_id: int) -> None:
    """Record "last used" at most once a minute per key. (Hand-outs counted in the cache
    set it when their minute is moved into the database.)"""
    try:
        first_this_minute = cache.add(f"zk:ck:used:{client_key_id}", 1, 60)
    except Exception:  # the cache is down: the database write is the fallback
        first_this_minute = True
    if first_this_minute:
        ClientKey.objects.filter(pk=client_key_id).update(last_used_at=timezone.now())


@transaction.atomic
def token_cap_reset(*, credential: Credential, by: User) -> AccessToken:
    """An admin overrides the daily cap Zhongkong counts: today's count starts again and a
    stop caused by it is lifted (a cap the platform itself answered stays the platform's)."""
    row = _row(credential.pk)
    before = row.fetches_today
    changes = {"fetches_today": 0}
    if row.blocked_reason == "quota":
        changes.update(blocked_reason="", blocked_until=None, retry_at=None)
    AccessToken.objects.filter(pk=row.pk).update(**changes)
    transaction.on_commit(lambda: token_cache.forget_token(credential.slug))
    record(
        action="token.cap_reset",
        actor=Actor.user(by),
        target_type="credential",
        target_id=credential.slug,
        details={"provider": credential.provider, "fetches_before": before},
    )
    return AccessToken.objects.select_related("credential").get(pk=row.pk)
