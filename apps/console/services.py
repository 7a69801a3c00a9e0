"""Send a console request with the credential's auth injected, decode it, keep it redacted."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from apps.audit.models import AuditEvent
from apps.audit.services import Actor, record
from apps.core.metrics import CONSOLE_SENDS, RATE_LIMITED
from apps.core.ratelimit import take
from apps.providers.base import Decoded, OutboundRequest
from apps.providers.sender import Sent, send
from apps.tokens.grants import GrantUnavailable, grant_refresh
from apps.tokens.models import AccessToken, UserGrant
from apps.tokens.services import TokenUnavailable, token_for_use, token_refresh
from apps.vault.models import Credential

from . import catalogue
from .models import ConsoleCall, SavedRequest
from .parts import RequestParts, body_text
from .redaction import live_values, redact, with_values

if TYPE_CHECKING:
    from apps.accounts.models import User

STORED_BODY = 256 * 1024


@dataclass
class Outcome:
    call: ConsoleCall | None
    decoded: Decoded | None
    wait: float = 0.0  # > 0: not sent, the platform's rate limit would be exceeded
    error: str = ""


def _token(credential: Credential, actor: Actor) -> str | None:
    if not credential.platform.uses_token_for(credential.public_values):
        return None
    return token_for_use(credential=credential, actor=actor)


def _grant(credential: Credential, user_id: str) -> UserGrant:
    return UserGrant.objects.select_related("credential").get(
        credential=credential, user_id=user_id
    )


@sensitive_variables("token")
def _user_token(credential: Credential, user_id: str, actor: Actor) -> str:
    """The connected user's current token (refreshed first when it is due)."""
    grant = _grant(credential, user_id)
    return grant_refresh(grant_id=grant.pk, reason="console", actor=actor).access_token()


def redacted_spec(spec: dict, values: list[str] | None = None) -> dict:
    values = live_values() if values is None else values
    return json.loads(redact(json.dumps(spec, ensure_ascii=False), values))


def auth_preview(
    credential: Credential, raw: OutboundRequest, as_user: str = ""
) -> tuple[OutboundRequest, set]:
    """The request as it will be sent, with every secret and the token shown as a named
    placeholder (a connected user's token when sent as them); nothing is fetched. Returns
    it and the names Zhongkong adds."""
    platform = credential.platform
    creds = {f.name: f"<{f.name}>" for f in platform.fields if f.secret}
    creds.update(credential.public_values)
    token = None
    if platform.uses_token_for(credential.public_values):
        held = (
            AccessToken.objects.filter(credential=credential)
            .only("fingerprint", "version", "token_type")
            .first()
        )
        name = (held and held.token_type) or platform.token_type or "token"
        token = (
            f"<{name} {held.fingerprint} v{held.version}>"
            if held and held.fingerprint
            else f"<{name}>"
        )
    authed = platform.apply_auth(raw, creds, token)
    if as_user:
        grant = UserGrant.objects.filter(credential=credential, user_id=as_user).first()
        label = f"{grant.fingerprint} v{grant.version}" if grant and grant.fingerprint else ""
        authed = platform.apply_user_auth(
            raw, f"<user token of {as_user}{' ' + label if label else ''}>"
        )
    idem = platform.idempotency_header(raw.method, raw.path)
    if idem and not raw.header(idem):
        authed.headers[idem] = "<new UUID for each send>"
    mine = {k.lower() for k in raw.headers} | {k for k, _ in raw.params}
    added = {k for k in authed.headers if k.lower() not in mine}
    added |= {k for k, _ in authed.params if k not in mine}
    return authed, added


def _rate_limit_wait(credential: Credential, token: str | None, parts: RequestParts) -> float:
    """Seconds to wait before this send would keep within the platform's limits per API, as
    the platform counts them (per token; the token itself is never a cache key: a digest)."""
    subject = hashlib.sha256(
        f"{token or credential.uid}|{parts.method} {parts.path}".encode()
    ).hexdigest()
    limits = catalogue.stated_limits(
        credential.provider, parts.method, parts.path
    ) or credential.platform.rate_limits(parts.method, parts.path)
    return take(f"console:{subject[:24]}", limits)


@dataclass
class _Exchange:
    """One request sent with auth and what came back (`decoded` is None when nothing did)."""

    authed: OutboundRequest
    sent: Sent
    decoded: Decoded | None
    as_user: bool = False


@sensitive_variables("values", "token")
def _exchange(
    credential: Credential, raw: OutboundRequest, values, token, *, as_user: bool = False
) -> _Exchange:
    platform = credential.platform
    authed = (
        platform.apply_user_auth(raw, token) if as_user else platform.apply_auth(raw, values, token)
    )
    hosts = {urlsplit(credential.effective_base_url).hostname or ""}
    sent = send(authed, allowed_hosts=hosts, internal=settings.CONSOLE_INTERNAL_TARGETS)
    decoded = (
        platform.decode(sent.status, sent.headers, sent.body, authed) if not sent.error else None
    )
    return _Exchange(authed, sent, decoded, as_user)


@sensitive_variables("token", "fresh")
def _fresh_token(credential: Credential, token: str, actor: Actor, as_user: str = "") -> str | None:
    """One passive refresh through the token centre after the platform rejected `token`
    (the app's, or the connected user's): the new token, or None when there is none or it
    is the same."""
    try:
        if as_user:
            fresh = grant_refresh(
                grant_id=_grant(credential, as_user).pk,
                rejected_token=token,
                reason="console",
                actor=actor,
            ).access_token()
        else:
            fresh = token_refresh(
                credential_id=credential.pk, rejected_token=token, reason="console", actor=actor
            ).value()
    except (TokenUnavailable, GrantUnavailable, UserGrant.DoesNotExist):
        return None
    return fresh if fresh and fresh != token else None


@sensitive_variables("values", "token", "fresh", "raw", "exchange", "parts")
def console_send(*, user: User, credential: Credential, parts: RequestParts) -> Outcome:
    """Send `parts` with the credential's auth; a rejected token is refreshed once through
    the token centre and the request sent once more. The call is stored and audited
    redacted; nothing is sent when the platform's rate limit would be exceeded."""
    actor = Actor.user(user)
    as_user = parts.as_user
    try:
        token = _user_token(credential, as_user, actor) if as_user else _token(credential, actor)
    except TokenUnavailable as exc:
        return Outcome(None, exc.decoded, error=f"no token: {exc}")
    except GrantUnavailable as exc:
        return Outcome(None, None, error=f"no user token for {as_user}: {exc}")
    except UserGrant.DoesNotExist:
        return Outcome(None, None, error=f"no user {as_user} is connected to this credential")
    wait = _rate_limit_wait(credential, token, parts)
    if wait:
        RATE_LIMITED.labels("console").inc()
        return Outcome(None, None, wait=wait)
    values = credential.adapter_values()
    raw = parts.outbound(credential.effective_base_url)
    exchange = _exchange(credential, raw, values, token, as_user=bool(as_user))
    fresh = None
    if exchange.decoded is not None and exchange.decoded.token_rejected and token:
        fresh = _fresh_token(credential, token, actor, as_user)
        if fresh:
            exchange = _exchange(credential, raw, values, fresh, as_user=bool(as_user))
    known = live_values()
    if as_user:
        known = with_values(known, token, fresh)
    # What the platform said is shown and stored only after every live secret and token in
    # it, in any encoding, is replaced (an upstream may echo the Authorization header).
    if exchange.decoded is not None:
        exchange.decoded = redacted_decoded(exchange.decoded, known)
    with transaction.atomic():
        call = _store(
            user, credential, exchange, retried=bool(fresh), spec=parts.spec(), values=known
        )
        _record_send(actor, credential, call, exchange, known, token=token, fresh=fresh)
    decoded, sent = exchange.decoded, exchange.sent
    outcome = "success" if decoded and decoded.ok else "error" if sent.error else "failure"
    transaction.on_commit(lambda: CONSOLE_SENDS.labels(credential.provider, outcome).inc())
    return Outcome(call, decoded)


@sensitive_variables("token", "fresh")
def _record_send(
    actor: Actor,
    credential: Credential,
    call: ConsoleCall,
    exchange: _Exchange,
    known: list[str],
    *,
    token: str | None,
    fresh: str | None,
) -> None:
    decoded, sent = exchange.decoded, exchange.sent
    record(
        action="console.send",
        actor=actor,
        target_type="credential",
        target_id=credential.slug,
        outcome=AuditEvent.Outcome.SUCCESS
        if decoded and decoded.ok
        else AuditEvent.Outcome.FAILURE,
        details={
            "provider": credential.provider,
            "method": exchange.authed.method,
            "path": call.request_spec.get("path", ""),  # redacted with the stored spec
            "status": sent.status,
            "code": decoded.code if decoded else None,
            "trace_id": decoded.trace_id if decoded else "",
            "call": call.pk,
            "error": sent.error,
            **({"as_user": call.request_spec.get("as_user", "")} if exchange.as_user else {}),
        },
        # The fingerprint of each token sent, so that a secret look-up of a leaked token finds
        # the sends that used it.
        secrets={"access_token": token, "retried_with": fresh},
    )


def redacted_decoded(decoded: Decoded, values: list[str]) -> Decoded:
    """The decoded result with every live value replaced in each text it carries."""

    def clean(value):
        if isinstance(value, str):
            return redact(value, values)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return replace(
        decoded,
        **{
            name: clean(getattr(decoded, name))
            for name in (
                "code",
                "message",
                "trace_id",
                "data",
                "next_page",
                "field_violations",
                "permission_violations",
                "helps",
                "troubleshooter",
                "caller_ip",
                "problem",
            )
        },
    )


def _store(
    user,
    credential,
    exchange: _Exchange,
    *,
    retried: bool,
    spec: dict,
    values: list[str],
) -> ConsoleCall:
    authed, sent, decoded = exchange.authed, exchange.sent, exchange.decoded
    spec = redacted_spec(spec, values)
    url = authed.full_url()
    body = body_text(authed, spec)
    # PostgreSQL text and jsonb refuse NUL: a platform's NUL bytes are kept as U+FFFD.
    response = sent.body[:STORED_BODY].decode("utf-8", "replace").replace("\x00", "\ufffd")
    return ConsoleCall.objects.create(
        user=user,
        credential=credential,
        method=authed.method,
        url=redact(url, values),
        request_headers={k: redact(v, values) for k, v in authed.wire_headers().items()},
        request_body=redact(body, values),
        status=sent.status,
        response_headers={
            k.replace("\x00", "\ufffd"): redact(v, values).replace("\x00", "\ufffd")
            for k, v in sent.headers.items()
        },
        response_body=redact(response, values),
        truncated=sent.truncated or len(sent.body) > STORED_BODY,
        elapsed_ms=sent.elapsed_ms,
        ok=bool(decoded and decoded.ok),
        code=(decoded.code or "") if decoded else "",
        classification=str(decoded.classification) if decoded else "",
        trace_id=decoded.trace_id if decoded else "",
        trace_source=decoded.trace_id_source if decoded else "",
        retried=retried,
        error=sent.error[:300],
        request_spec=spec,
    )


def console_replay(*, user: User, call: ConsoleCall) -> Outcome:
    """Send a stored request again, with the credential's current token."""
    spec = call.request_spec
    if spec.get("files"):
        return Outcome(
            None,
            None,
            error=_(
                "This send uploaded a file, which Zhongkong does not "
                "keep: open it in the console and attach the file "
                "again."
            ),
        )
    return console_send(user=user, credential=call.credential, parts=RequestParts.from_spec(spec))


def saved_request_save(
    *,
    user: User,
    credential: Credential | None,
    spec: dict,
    name: str,
    folder: str,
    shared: bool,
) -> tuple[SavedRequest, bool]:
    """Keep the builder's request under a name (same owner, folder and name: replaced).
    Secrets and tokens in it are redacted by value before it is stored."""
    with transaction.atomic():
        saved, created = SavedRequest.objects.update_or_create(
            owner=user,
            folder=folder,
            name=name,
            defaults={
                "credential": credential,
                "shared": shared,
                "request_spec": redacted_spec(spec),
            },
        )
        record(
            action="console.saved",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id=saved.pk,
            details={
                "name": name,
                "folder": folder,
                "shared": shared,
                "created": created,
                "credential": credential.slug if credential else "",
                "method": spec["method"],
                "path": spec["path"],
            },
        )
    return saved, created


def saved_request_delete(*, user: User, saved: SavedRequest) -> None:
    with transaction.atomic():
        record(
            action="console.saved_delete",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id=saved.pk,
            details={"name": saved.name, "folder": saved.folder, "owner": saved.owner.username},
        )
        saved.delete()


def saved_requests_import(*, user: User, requests, credentials: dict) -> list:
    """Keep each request of an imported collection as the user's own (same folder and name:
    replaced), each audited as a save; then one event for the import as a whole."""
    kept = []
    with transaction.atomic():
        for item in requests:
            saved, _ = saved_request_save(
                user=user,
                credential=credentials.get(item.credential_slug),
                spec=item.spec,
                name=item.name,
                folder=item.folder,
                shared=False,
            )
            kept.append(saved)
        record(
            action="console.saved_import",
            actor=Actor.user(user),
            target_type="saved_request",
            target_id="",
            details={"count": len(kept), "format": "postman-v2.1"},
        )
    return kept
