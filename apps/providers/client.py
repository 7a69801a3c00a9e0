"""Token fetches and "test connection" for the adapters, through the one guarded sender
(`sender.send`): the same SSRF guard, pinned connection, deadline and size cap as the
console's requests. The caller passes the internal targets its settings allow."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .base import (
    Classification,
    Decoded,
    OutboundRequest,
    Provider,
    ProviderError,
    TokenGrant,
    UserIdentity,
    UserTokenGrant,
)
from .jsapi import TicketGrant
from .sender import Sent, send

TOKEN_DEADLINE = 15.0
TOKEN_MAX_BODY = 256 * 1024  # a token reply is a few hundred bytes


def _sent_or_error(
    provider: Provider, request: OutboundRequest, *, internal: Iterable[str], deadline: float
) -> Sent:
    sent = send(request, internal=internal, deadline=deadline, max_body=TOKEN_MAX_BODY)
    if sent.error:
        refused = sent.error.startswith("refused")
        decoded = Decoded(
            ok=False,
            http_status=0,
            classification=(Classification.CLIENT_ERROR if refused else Classification.RETRYABLE),
            problem=f"network:{sent.error}"[:200],
        )
        raise ProviderError(f"{provider.key}: {sent.error}", decoded=decoded, permanent=refused)
    return sent


def probe(
    provider: Provider,
    *,
    base_url: str,
    creds: Mapping[str, str],
    internal: Iterable[str] = (),
    deadline: float = TOKEN_DEADLINE,
) -> tuple[Decoded, TokenGrant | None]:
    """ "Test connection": fetch a token, or make the cheapest authenticated call when the
    platform has no tokens. The decoded result never carries the token itself."""
    request = provider.token_request(base_url, creds) if provider.uses_token_for(creds) else None
    is_token = request is not None
    if request is None:
        request = provider.probe_request(base_url, creds)
        if request is None:
            raise ProviderError(f"{provider.key} has no way to test a connection", permanent=True)
        request = provider.apply_auth(request, creds, None)
    sent = _sent_or_error(provider, request, internal=internal, deadline=deadline)
    decoded = provider.decode(sent.status, sent.headers, sent.body, request)
    grant = None
    if is_token:
        decoded.data = None  # token responses carry the token: never pass it on
        if decoded.ok:
            try:
                grant = provider.parse_token(sent.status, sent.headers, sent.body)
            except ProviderError as exc:
                failed = exc.decoded or decoded
                failed.data = None
                return failed, None
    return decoded, grant


def fetch_token(
    provider: Provider,
    *,
    base_url: str,
    creds: Mapping[str, str],
    internal: Iterable[str] = (),
    deadline: float = TOKEN_DEADLINE,
) -> TokenGrant:
    """One upstream token fetch. Raises ProviderError (permanent or not) on any failure."""
    request = provider.token_request(base_url, creds)
    if request is None:
        raise ProviderError(
            f"{provider.key} does not use tokens for this credential", permanent=True
        )
    sent = _sent_or_error(provider, request, internal=internal, deadline=deadline)
    return provider.parse_token(sent.status, sent.headers, sent.body)


def fetch_user_token(
    provider: Provider,
    *,
    base_url: str,
    creds: Mapping[str, str],
    code: str = "",
    refresh_token: str = "",
    redirect_uri: str = "",
    code_verifier: str = "",
    internal: Iterable[str] = (),
    deadline: float = TOKEN_DEADLINE,
) -> UserTokenGrant:
    """One code exchange or refresh of a user's grant. Raises ProviderError; a network
    failure is RETRYABLE (the platform may or may not have rotated the refresh token)."""
    request = provider.user_token_request(
        base_url,
        creds,
        code=code,
        refresh_token=refresh_token,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )
    sent = _sent_or_error(provider, request, internal=internal, deadline=deadline)
    return provider.parse_user_token(sent.status, sent.headers, sent.body)


def fetch_user_identity(
    provider: Provider,
    *,
    base_url: str,
    token: str,
    code: str = "",
    internal: Iterable[str] = (),
    deadline: float = TOKEN_DEADLINE,
) -> UserIdentity:
    """Who the user behind a fresh user token is (on a platform whose code gives only an
    identity: who the user behind `code` is, asked with the app's `token`)."""
    request = provider.user_identity_request(base_url, token, code=code)
    sent = _sent_or_error(provider, request, internal=internal, deadline=deadline)
    return provider.parse_user_identity(sent.status, sent.headers, sent.body)


def fetch_ticket(
    provider: Provider,
    *,
    base_url: str,
    creds: Mapping[str, str],
    token: str,
    kind: str,
    internal: Iterable[str] = (),
    deadline: float = TOKEN_DEADLINE,
) -> TicketGrant:
    """One JS-SDK ticket fetch with the app's token. Raises ProviderError (a rejected token
    is classified TOKEN_REJECTED)."""
    request = provider.ticket_request(base_url, creds, token, kind)
    sent = _sent_or_error(provider, request, internal=internal, deadline=deadline)
    return provider.parse_ticket(sent.status, sent.headers, sent.body)
