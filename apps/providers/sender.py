"""The one road out: every request that carries a secret or a token to a platform goes
through `send` (SSRF guard, pinned connection, deadline, size cap, no redirects, no proxies
from the environment). Returns what came back, never raises for what the platform did."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .base import OutboundRequest
from .guard import Refused, Target, check

CONNECT_TIMEOUT = 3.05
TOTAL_DEADLINE = 20.0
MAX_BODY = 2 * 1024 * 1024


@dataclass
class Sent:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str = ""  # refused, timeout, connection error: nothing usable came back
    redirect_to: str = ""


class _PinnedAdapter(HTTPAdapter):
    """Connects to the validated address while TLS still checks the platform's name."""

    def __init__(self, host: str):
        self._host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._host
        kwargs["assert_hostname"] = self._host
        super().init_poolmanager(*args, **kwargs)


def _pinned_url(url: str, target: Target) -> str:
    parts = urlsplit(url)
    ip = f"[{target.ip}]" if ":" in target.ip else target.ip
    return urlunsplit((parts.scheme, f"{ip}:{target.port}", parts.path, parts.query, ""))


def send(
    request: OutboundRequest,
    *,
    allowed_hosts: set[str] | None = None,
    internal: Iterable[str] = (),
    deadline: float = TOTAL_DEADLINE,
    max_body: int = MAX_BODY,
) -> Sent:
    """`allowed_hosts`: the platform's hosts (default: the request's own host, as for a
    token fetch to the credential's base URL). `internal`: targets allowed although not
    public (`host:port`, `host:*`)."""
    started = time.monotonic()
    if allowed_hosts is None:
        allowed_hosts = {urlsplit(request.url).hostname or ""}
    try:
        target = check(request.url, allowed_hosts=allowed_hosts, internal=internal)
    except Refused as exc:
        return Sent(error=f"refused: {exc}")
    session = requests.Session()
    session.trust_env = False  # no proxies, no .netrc
    session.mount(f"{target.scheme}://", _PinnedAdapter(target.host))
    headers = {
        **request.wire_headers(),  # all of them: what the console shows is what goes out
        "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
    }
    kwargs = {
        "params": request.params or None,
        "headers": headers,
        "stream": True,
        "allow_redirects": False,
        "timeout": (CONNECT_TIMEOUT, deadline),
    }
    if request.wire_body() is not None:
        kwargs["data"] = request.wire_body()
    try:
        with session.request(
            request.method, _pinned_url(request.url, target), **kwargs
        ) as response:
            return _read(response, started, deadline=deadline, max_body=max_body)
    except requests.Timeout:
        return Sent(error="timeout", elapsed_ms=(time.monotonic() - started) * 1000)
    except requests.RequestException as exc:
        return Sent(
            error=f"connection: {type(exc).__name__}",
            elapsed_ms=(time.monotonic() - started) * 1000,
        )
    finally:
        session.close()


def _read(response: requests.Response, started: float, *, deadline: float, max_body: int) -> Sent:
    """The reply's body up to `max_body` bytes (the rest cut off: `truncated`), unless the
    deadline passes while it streams."""
    chunks, size, truncated = [], 0, False
    for chunk in response.iter_content(64 * 1024):
        if time.monotonic() - started > deadline:
            return Sent(
                status=response.status_code,
                error="timeout: deadline passed",
                elapsed_ms=(time.monotonic() - started) * 1000,
            )
        size += len(chunk)
        if size > max_body:
            chunks.append(chunk[: max_body - (size - len(chunk))])
            truncated = True
            break
        chunks.append(chunk)
    return Sent(
        status=response.status_code,
        headers=dict(response.headers),
        body=b"".join(chunks),
        truncated=truncated,
        redirect_to=response.headers.get("Location", "") if response.is_redirect else "",
        elapsed_ms=round((time.monotonic() - started) * 1000, 1),
    )
