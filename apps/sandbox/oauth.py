"""Users' consent on the emulated platforms (the OAuth code flow), under the platforms' rules:
an authorisation code works once within 5 minutes, for the redirect address and the PKCE
challenge it was issued with; a refresh token works once, and using it issues the next one;
a refresh token comes only with the platform's offline scope; revoking a user's consent kills
every refresh token they gave."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .core import hash_token
from .models import SandboxApp, SandboxAuthCode, SandboxRefreshToken, SandboxToken

CODE_LIFETIME = timedelta(minutes=5)
REFRESH_LIFETIME = 7 * 24 * 3600  # what Feishu printed in larksuite/cli#1404's timeline: 7 days
USER_TOKEN_KIND = "user_access_token"


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    refresh_token: str  # "" without the offline scope
    refresh_expires_in: int | None
    scopes: str


def issue_code(
    app: SandboxApp, *, user_id: str, scopes: str, redirect_uri: str, code_challenge: str
) -> str:
    code = secrets.token_hex(16)
    SandboxAuthCode.objects.create(
        app=app,
        user_id=user_id,
        scopes=scopes,
        code_hash=hash_token(code),
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return code


def _pkce_ok(challenge: str, verifier: str) -> bool:
    if not challenge:
        return True
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def redeem_code(
    app: SandboxApp, *, code: str, redirect_uri: str | None, code_verifier: str
) -> tuple[str, SandboxAuthCode | None]:
    """("ok", code) or (why not: "invalid", "foreign" (another app's), "used", "expired",
    "redirect", "pkce"). The
    code is spent by the first caller, whatever the later ones send. `redirect_uri` None: the
    platform's token request does not repeat it (DingTalk)."""
    now = timezone.now()
    found = SandboxAuthCode.objects.filter(app=app, code_hash=hash_token(code)).first()
    if found is None:
        other = SandboxAuthCode.objects.filter(
            app__provider=app.provider, code_hash=hash_token(code)
        ).exists()
        return ("foreign" if other else "invalid"), None
    if not SandboxAuthCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now):
        return "used", None
    if found.expires_at <= now:
        return "expired", None
    if redirect_uri is not None and found.redirect_uri and redirect_uri != found.redirect_uri:
        return "redirect", None
    if not _pkce_ok(found.code_challenge, code_verifier):
        return "pkce", None
    return "ok", found


def issue_user_tokens(
    app: SandboxApp, *, user_id: str, scopes: str, offline_scope: str | None
) -> Issued:
    """A new user access token, and with the offline scope (or on a platform that has none:
    `offline_scope` None) a new refresh token."""
    now = timezone.now()
    access = "u-" + secrets.token_urlsafe(32)
    SandboxToken.objects.create(
        app=app,
        kind=USER_TOKEN_KIND,
        serial=0,
        subject=user_id,
        token_hash=hash_token(access),
        issued_at=now,
        expires_at=now + timedelta(seconds=app.token_lifetime),
        valid_until=now + timedelta(seconds=app.token_lifetime),
    )
    refresh, refresh_in = "", None
    if offline_scope is None or offline_scope in scopes.split():
        refresh, refresh_in = "ur-" + secrets.token_urlsafe(32), REFRESH_LIFETIME
        SandboxRefreshToken.objects.create(
            app=app,
            user_id=user_id,
            scopes=scopes,
            token_hash=hash_token(refresh),
            expires_at=now + timedelta(seconds=REFRESH_LIFETIME),
        )
    return Issued(access, app.token_lifetime, refresh, refresh_in, scopes)


def use_refresh(app: SandboxApp, token: str) -> tuple[str, SandboxRefreshToken | None]:
    """("ok", the spent token) or why not: "invalid", "used", "revoked", "expired". Spending
    is one conditional UPDATE: of two concurrent callers, one gets "ok", the other "used"."""
    now = timezone.now()
    with transaction.atomic():
        found = SandboxRefreshToken.objects.filter(app=app, token_hash=hash_token(token)).first()
        if found is None:
            return "invalid", None
        if found.revoked:
            return "revoked", None
        if found.expires_at <= now:
            return "expired", None
        spent = SandboxRefreshToken.objects.filter(pk=found.pk, used_at__isnull=True).update(
            used_at=now
        )
        return ("ok", found) if spent else ("used", None)


def revoke_user(app: SandboxApp, user_id: str) -> int:
    """The user withdraws consent: every refresh token they gave dies (tests use this)."""
    return SandboxRefreshToken.objects.filter(app=app, user_id=user_id).update(revoked=True)


def refreshes(app: SandboxApp, user_id: str | None = None) -> int:
    """How many refresh tokens were spent (what tests count as platform refreshes)."""
    spent = SandboxRefreshToken.objects.filter(app=app, used_at__isnull=False)
    return (spent.filter(user_id=user_id) if user_id else spent).count()


def user_of(token: str, provider: str) -> str | None:
    """The user a live user access token acts as, or None."""
    found = (
        SandboxToken.objects.filter(
            token_hash=hash_token(token), kind=USER_TOKEN_KIND, app__provider=provider
        )
        .only("subject", "valid_until")
        .first()
    )
    return found.subject if found and found.valid_until > timezone.now() else None
