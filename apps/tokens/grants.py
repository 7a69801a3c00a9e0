"""Users' grants: custody of single-use refresh tokens, and the user access tokens they buy.

A platform's refresh token works once (Feishu: "仅能使用一次"); the reply carries the next.
Two processes refreshing the same user with the same refresh token leave the loser with a
dead token and the user revoked (larksuite/openclaw-lark#557). So a refresh happens under a
lease on the grant's row taken with a compare-and-set on its version (a plain UPDATE ...
WHERE, which holds across processes and hosts on PostgreSQL and SQLite alike); the lease
outlives the sender's hard deadline, so no second holder can start while a reply may still
arrive. The holder re-reads the grant after taking it (another holder may have rotated it
already), and stores the new refresh token with the new access token in one UPDATE: there is
no moment at which one is saved without the other. A reply without a refresh token keeps the
one held. Only the codes the platform marks as final (the adapter's GRANT_INVALID) mark the
grant as needing re-authorisation; a timeout, a 5xx or an unknown refusal leaves it as it
was and backs off, so an outage never throws away a grant the platform still honours.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, fingerprint, record
from apps.providers.base import Classification, ProviderError, UserIdentity, UserTokenGrant
from apps.providers.client import fetch_user_identity, fetch_user_token
from apps.vault.models import Credential

from . import cache as token_cache
from .models import GrantInvite, UserGrant
from .services import SAFETY, _last_error, _lease, _owner, token_for_use

logger = logging.getLogger(__name__)

# Refresh a user token this long before it expires (at most a quarter of its life).
REFRESH_BEFORE = 600


class GrantUnavailable(Exception):
    """No valid user token can be served. `code` is what the token API reports."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code, self.retry_after = code, retry_after


def plan_refresh(obtained: datetime, expires_in: int) -> datetime:
    margin = min(REFRESH_BEFORE, expires_in * 0.25)
    jitter = random.uniform(0, margin * 0.2)  # noqa: S311 - spreading load, not security
    return obtained + timedelta(seconds=max(0.0, expires_in - margin - jitter))


def is_valid(grant: UserGrant, now: datetime) -> bool:
    expires_at = grant.expires_at
    return bool(grant.access_blob) and expires_at is not None and expires_at > now + SAFETY


def _load(pk: int) -> UserGrant:
    return UserGrant.objects.select_related("credential").get(pk=pk)


# --- connecting a user --------------------------------------------------------------------

PENDING_MAX_AGE = 600  # seconds a started authorisation may take to come back
EXPIRY_WARNING = timedelta(days=2)  # a grant whose refresh token ends sooner is "expiring"


@dataclass(frozen=True)
class Authorisation:
    """A started authorisation: where to send the user's browser, and what the callback
    must find again (kept server-side, in the session that started it; used once)."""

    url: str
    state: str
    pending: dict


def authorisation_start(*, credential: Credential, redirect_uri: str) -> Authorisation:
    """The platform's authorise URL for this credential, with a fresh `state` and, where the
    platform takes it, a PKCE challenge whose verifier stays on the server."""
    oauth = credential.platform.user_oauth
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48) if oauth.pkce else ""
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if verifier
        else ""
    )
    url = credential.platform.authorize_url(
        credential.effective_base_url,
        credential.public_values,
        redirect_uri=redirect_uri,
        state=state,
        scopes=oauth.default_scopes,
        code_challenge=challenge,
    )
    pending = {
        "credential": credential.pk,
        "verifier": verifier,
        "redirect_uri": redirect_uri,
        "at": time.time(),
    }
    return Authorisation(url=url, state=state, pending=pending)


def grant_state(grant: UserGrant, now: datetime) -> str:
    """What the page says of a grant: healthy, expiring (its refresh token ends soon, or
    there is none and the access token is all there is), or needs re-authorisation."""
    if grant.state == UserGrant.State.NEEDS_REAUTH:
        return "needs_reauth"
    if not grant.refreshable:
        return "expiring" if is_valid(grant, now) else "needs_reauth"
    if grant.refresh_expires_at is not None and grant.refresh_expires_at <= now + EXPIRY_WARNING:
        return "expiring" if grant.refresh_expires_at > now else "needs_reauth"
    return "healthy"


@sensitive_variables("grant", "code", "code_verifier")
def grant_connect(
    *, credential: Credential, code: str, redirect_uri: str, code_verifier: str, actor: Actor
) -> UserGrant:
    """Trade an authorisation code for the user's tokens, learn who the user is, and keep
    the grant (replacing the tokens of a user connected before). Raises ProviderError."""
    provider = credential.platform
    base_url, internal = credential.effective_base_url, settings.CONSOLE_INTERNAL_TARGETS
    grant = fetch_user_token(
        provider,
        base_url=base_url,
        creds=credential.adapter_values(),
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        internal=internal,
        deadline=settings.TOKEN_FETCH_TIMEOUT,
    )
    who = fetch_user_identity(
        provider,
        base_url=base_url,
        token=grant.access_token,
        internal=internal,
        deadline=settings.TOKEN_FETCH_TIMEOUT,
    )
    try:
        with transaction.atomic():
            row, _ = UserGrant.objects.get_or_create(credential=credential, user_id=who.user_id)
    except IntegrityError:  # connected by a concurrent callback
        row = UserGrant.objects.get(credential=credential, user_id=who.user_id)
    row.credential = credential
    now = timezone.now()
    with transaction.atomic():
        UserGrant.objects.filter(pk=row.pk).update(
            name=who.name,
            union_id=who.union_id,
            state=UserGrant.State.HEALTHY,
            connected_by_id=actor.id if actor.type == AuditEvent.ActorType.USER else None,
            **_token_fields(row, grant, now, keep_refresh=""),
        )
        record(
            action="user_grant.connect",
            actor=actor,
            target_type="credential",
            target_id=credential.slug,
            secrets={"token": grant.access_token},
            details={
                "provider": provider.key,
                "user_id": who.user_id,
                "scopes": " ".join(grant.scopes)[:500],
                "refreshable": bool(grant.refresh_token),
            },
        )
    token_cache.forget_grant(credential.slug, who.user_id)
    return _load(row.pk)


@sensitive_variables("code")
def identify(*, credential: Credential, code: str, actor: Actor) -> UserIdentity:
    """Who the member behind a sign-in code is, on a platform whose code gives no user token
    (WeCom: /cgi-bin/auth/getuserinfo, asked with the app's own token from the token
    centre). Nothing is kept but the audit event. Raises ProviderError or TokenUnavailable."""
    who = fetch_user_identity(
        credential.platform,
        base_url=credential.effective_base_url,
        token=token_for_use(credential=credential, actor=actor),
        code=code,
        internal=settings.CONSOLE_INTERNAL_TARGETS,
        deadline=settings.TOKEN_FETCH_TIMEOUT,
    )
    record(
        action="user_identity.verify",
        actor=actor,
        target_type="credential",
        target_id=credential.slug,
        details={"provider": credential.provider, "user_id": who.user_id},
    )
    return who


def _token_fields(row: UserGrant, grant: UserTokenGrant, now: datetime, keep_refresh: str) -> dict:
    """The columns a code exchange or a refresh sets, in one UPDATE: the new access token
    and, with it, the new refresh token (or the one held, when the reply had none)."""
    refresh = grant.refresh_token or keep_refresh
    fields = {
        "access_blob": row.seal_access(grant.access_token),
        "fingerprint": fingerprint(grant.access_token)[:16],
        "refresh_blob": row.seal_refresh(refresh),
        "version": F("version") + 1,
        "obtained_at": now,
        "expires_at": now + timedelta(seconds=grant.expires_in),
        "refresh_at": plan_refresh(now, grant.expires_in) if refresh else None,
        "lease_owner": "",
        "lease_until": None,
        "failures": 0,
        "retry_at": None,
        "last_error": {},
        "last_error_at": None,
    }
    if grant.scopes:
        fields["scopes"] = " ".join(grant.scopes)
    if grant.refresh_token:  # the expiry of a refresh token kept is the one it had
        fields["refresh_expires_at"] = (
            now + timedelta(seconds=grant.refresh_expires_in) if grant.refresh_expires_in else None
        )
    refresh_ends = fields.get("refresh_expires_at", row.refresh_expires_at)
    if fields["refresh_at"] is not None and refresh_ends is not None:
        # A refresh token that ends before the access token's planned refresh is spent
        # first (a refresh rotates both), a little before its own end.
        spend_by = refresh_ends - timedelta(seconds=REFRESH_BEFORE)
        fields["refresh_at"] = max(now, min(fields["refresh_at"], spend_by))
    return fields


# --- refreshing ----------------------------------------------------------------------------


def grant_refresh(
    *,
    grant_id: int,
    rejected_token: str | None = None,
    force: bool = False,
    wait: bool = True,
    reason: str = "scheduled",
    actor: Actor | None = None,
) -> UserGrant:
    """Make sure the grant has a current user token, refreshing only when needed: no valid
    token, its planned refresh time has come, `force`, or a caller saw `rejected_token`
    rejected while it is still the current one. Concurrent callers share one refresh.
    Raises GrantUnavailable when no valid token can be served."""
    deadline = time.monotonic() + min(settings.TOKEN_LEASE_SECONDS + 5, settings.TOKEN_WAIT_MAX)
    owner = _owner()
    while True:
        row, now = _load(grant_id), timezone.now()
        if not _needs_refresh(row, now, rejected_token=rejected_token, force=force):
            return _serve(row, now)
        if _claim(row, owner, now):
            break
        if not wait:
            return row
        fresher = _wait_for(row.pk, row.version, deadline)
        if fresher is not None and is_valid(fresher, timezone.now()):
            return fresher
        force = False  # another holder refreshed (or gave up): look again
    return _refresh(_load(grant_id), owner, reason=reason, actor=actor)


def _needs_refresh(row: UserGrant, now: datetime, *, rejected_token, force: bool) -> bool:
    if row.state != UserGrant.State.HEALTHY or not row.refreshable:
        return False  # nothing to refresh with: serve what is left, or say so
    if row.retry_at is not None and row.retry_at > now and not force:
        return False  # backing off after a failure: the next try is the scan's
    if rejected_token is not None:
        return bool(row.access_blob) and row.access_token() == rejected_token
    return force or not is_valid(row, now) or (row.refresh_at is not None and row.refresh_at <= now)


def _serve(row: UserGrant, now: datetime) -> UserGrant:
    if is_valid(row, now):
        return row
    if row.state == UserGrant.State.NEEDS_REAUTH or not row.refreshable:
        raise GrantUnavailable(
            "needs_reauthorisation", "the user must authorise again: the grant cannot be refreshed"
        )
    retry = (row.retry_at - now).total_seconds() if row.retry_at else None
    raise GrantUnavailable(
        "upstream_failed", "the platform refused or failed the refresh", retry_after=retry
    )


def _claim(row: UserGrant, owner: str, now: datetime) -> bool:
    return bool(
        UserGrant.objects.filter(pk=row.pk, version=row.version)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_owner=owner, lease_until=now + _lease())
    )


def _wait_for(pk: int, version: int, deadline: float) -> UserGrant | None:
    """Wait while another caller refreshes: the grant once its version moved, None when the
    lease ended without a new version (the holder failed or died)."""
    while True:
        time.sleep(settings.TOKEN_WAIT_POLL)
        row = _load(pk)
        if row.version != version:
            return row
        if row.lease_until is None or row.lease_until <= timezone.now():
            return None
        if time.monotonic() >= deadline:
            raise GrantUnavailable(
                "refresh_timeout", "the refresh in progress did not finish in time", retry_after=1
            )


@sensitive_variables("grant", "held")
def _refresh(row: UserGrant, owner: str, *, reason: str, actor: Actor | None) -> UserGrant:
    """Spend the refresh token once (twice only when the platform answers with its one
    retryable code, which means it did not spend it) and keep what came back."""
    credential = row.credential
    actor = actor or Actor.system(f"grant-{reason}")
    held = row.refresh_token()
    for attempt in (1, 2):
        try:
            grant = fetch_user_token(
                credential.platform,
                base_url=credential.effective_base_url,
                creds=credential.adapter_values(),
                refresh_token=held,
                internal=settings.CONSOLE_INTERNAL_TARGETS,
                deadline=settings.TOKEN_FETCH_TIMEOUT,
            )
            break
        except ProviderError as exc:
            # The platform's own "try again" code (Feishu 20050) means it did not spend the
            # token; a timeout or a gateway's 5xx may have, so those wait for the next try.
            said_retry = exc.decoded is not None and exc.decoded.code not in (None, "")
            if attempt == 1 and said_retry and _classification(exc) is Classification.RETRYABLE:
                continue
            return _failed(row, owner, exc, reason=reason, actor=actor)
        except Exception:
            UserGrant.objects.filter(pk=row.pk, lease_owner=owner).update(
                lease_owner="", lease_until=None
            )
            raise
    now = timezone.now()
    with transaction.atomic():
        UserGrant.objects.filter(pk=row.pk).update(**_token_fields(row, grant, now, held))
        record(
            action="user_grant.refresh",
            actor=actor,
            target_type="credential",
            target_id=credential.slug,
            secrets={"token": grant.access_token},
            details={
                "provider": credential.provider,
                "user_id": row.user_id,
                "reason": reason,
                "version": row.version + 1,
                "refresh_token_rotated": bool(grant.refresh_token),
            },
        )
    token_cache.forget_grant(credential.slug, row.user_id)
    return _load(row.pk)


def _classification(exc: ProviderError) -> Classification:
    return exc.decoded.classification if exc.decoded else Classification.RETRYABLE


def _failed(
    row: UserGrant, owner: str, exc: ProviderError, *, reason: str, actor: Actor
) -> UserGrant:
    """Keep the grant as the platform left it: gone only on the codes that say so (the old
    access token is served until it really expires); otherwise back off and try later."""
    now = timezone.now()
    classification = _classification(exc)
    gone = classification is Classification.GRANT_INVALID
    failures = row.failures + 1
    wait = min(settings.TOKEN_BACKOFF_BASE * 2 ** (failures - 1), settings.TOKEN_BACKOFF_MAX)
    changes = {
        "lease_owner": "",
        "lease_until": None,
        "failures": failures,
        "last_error_at": now,
        "last_error": _last_error(exc.decoded, classification, reason),
        "retry_at": None if gone else now + timedelta(seconds=wait * random.uniform(0.5, 1.0)),  # noqa: S311
    }
    if gone:
        changes["state"] = UserGrant.State.NEEDS_REAUTH
    with transaction.atomic():
        UserGrant.objects.filter(pk=row.pk, lease_owner=owner).update(**changes)
        record(
            action="user_grant.refresh",
            actor=actor,
            outcome=AuditEvent.Outcome.FAILURE,
            target_type="credential",
            target_id=row.credential.slug,
            details={
                "provider": row.credential.provider,
                "user_id": row.user_id,
                "reason": reason,
                "needs_reauthorisation": gone,
                **{k: changes["last_error"][k] for k in ("code", "classification", "trace_id")},
            },
        )
    token_cache.forget_grant(row.credential.slug, row.user_id)
    logger.warning(
        "user grant refresh failed for %s/%s: %s",
        row.credential.slug,
        row.user_id,
        changes["last_error"]["code"] or changes["last_error"]["problem"],
    )
    return _serve(_load(row.pk), now)


# --- one-time authorisation links ----------------------------------------------------------

INVITE_LIFETIME = timedelta(days=7)


def _invite_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_create(*, credential: Credential, label: str, actor: Actor, by) -> str:
    """A new one-time authorisation link's secret part (shown once; only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = GrantInvite.objects.create(
            credential=credential,
            token_hash=_invite_hash(token),
            label=label[:100],
            created_by=by,
            expires_at=timezone.now() + INVITE_LIFETIME,
        )
        record(
            action="user_grant.invite",
            actor=actor,
            target_type="credential",
            target_id=credential.slug,
            details={"provider": credential.provider, "invite": invite.pk, "label": label[:100]},
        )
    return token


def invite_open(token: str) -> GrantInvite | None:
    """The invite behind a link, while it is unused and unexpired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return (
        GrantInvite.objects.select_related("credential", "created_by")
        .filter(token_hash=_invite_hash(token), used_at__isnull=True)
        .filter(expires_at__gt=timezone.now(), credential__deleted_at__isnull=True)
        .first()
    )


def invite_claim(pk: int) -> bool:
    """Take the invite for one authorisation coming back (one conditional UPDATE: of two
    callbacks, one wins). `invite_release` gives it back when the platform refused."""
    now = timezone.now()
    return bool(
        GrantInvite.objects.filter(pk=pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
    )


def invite_release(pk: int) -> None:
    GrantInvite.objects.filter(pk=pk, connected_user_id="").update(used_at=None)


def invite_done(pk: int, user_id: str) -> None:
    GrantInvite.objects.filter(pk=pk).update(connected_user_id=user_id)


# --- revoking -----------------------------------------------------------------------------


def grant_revoke(*, grant: UserGrant, actor: Actor) -> None:
    """Forget the grant (its tokens with it). The platform's own consent is the user's to
    withdraw there; Zhongkong stops holding and handing out the tokens."""
    with transaction.atomic():
        record(
            action="user_grant.revoke",
            actor=actor,
            target_type="credential",
            target_id=grant.credential.slug,
            details={"provider": grant.credential.provider, "user_id": grant.user_id},
        )
        grant.delete()
    token_cache.forget_grant(grant.credential.slug, grant.user_id)
