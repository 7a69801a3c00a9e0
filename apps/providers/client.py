"""The smallest HTTP layer the adapters need: send an OutboundRequest, fetch a token.

The console's sender (SSRF guard, size cap, rate limiter) wraps this for user-built requests;
the token centre and "test connection" use `fetch_token` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from .base import Classification, Decoded, OutboundRequest, Provider, ProviderError, TokenGrant

DEFAULT_TIMEOUT = (3.05, 15)
MAX_BODY = 8 * 1024 * 1024


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    return session


def send(request: OutboundRequest, *, session: requests.Session | None = None,
         timeout: tuple[float, float] = DEFAULT_TIMEOUT, max_body: int = MAX_BODY) -> RawResponse:
    own = session is None
    session = session or new_session()
    try:
        kwargs = {"params": request.params or None, "headers": request.headers,
                  "timeout": timeout, "allow_redirects": False, "stream": True}
        if request.json is not None:
            kwargs["json"] = request.json
        elif request.body is not None:
            kwargs["data"] = request.body
        with session.request(request.method, request.url, **kwargs) as response:
            chunks, size, truncated = [], 0, False
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_body:
                    chunks.append(chunk[: max_body - (size - len(chunk))])
                    truncated = True
                    break
                chunks.append(chunk)
            return RawResponse(response.status_code, dict(response.headers), b"".join(chunks),
                               truncated)
    finally:
        if own:
            session.close()


def _network_error(provider: Provider, exc: Exception) -> ProviderError:
    decoded = Decoded(ok=False, http_status=0, classification=Classification.RETRYABLE,
                      problem=f"network:{type(exc).__name__}")
    return ProviderError(f"{provider.key}: {type(exc).__name__} talking to the platform",
                         decoded=decoded)


def probe(provider: Provider, *, base_url: str, creds: Mapping[str, str],
          session: requests.Session | None = None) -> tuple[Decoded, TokenGrant | None]:
    """"Test connection": fetch a token, or make the cheapest authenticated call when the
    platform has no tokens. The decoded result never carries the token itself."""
    request = provider.token_request(base_url, creds) if provider.uses_token_for(creds) else None
    is_token = request is not None
    if request is None:
        request = provider.probe_request(base_url, creds)
        if request is None:
            raise ProviderError(f"{provider.key} has no way to test a connection", permanent=True)
        request = provider.apply_auth(request, creds, None)
    try:
        raw = send(request, session=session)
    except requests.RequestException as exc:
        raise _network_error(provider, exc) from exc
    decoded = provider.decode(raw.status, raw.headers, raw.body, request)
    grant = None
    if is_token:
        decoded.data = None  # token responses carry the token: never pass it on
        if decoded.ok:
            try:
                grant = provider.parse_token(raw.status, raw.headers, raw.body)
            except ProviderError as exc:
                failed = exc.decoded or decoded
                failed.data = None
                return failed, None
    return decoded, grant


def fetch_token(provider: Provider, *, base_url: str, creds: Mapping[str, str],
                session: requests.Session | None = None,
                timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> TokenGrant:
    """One upstream token fetch. Raises ProviderError (permanent or not) on any failure."""
    request = provider.token_request(base_url, creds)
    if request is None:
        raise ProviderError(f"{provider.key} does not use tokens for this credential",
                            permanent=True)
    try:
        raw = send(request, session=session, timeout=timeout)
    except requests.RequestException as exc:
        raise _network_error(provider, exc) from exc
    return provider.parse_token(raw.status, raw.headers, raw.body)
