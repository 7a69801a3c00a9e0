"""Who and where of the request being served, for audit events and log lines.

The request-id middleware binds it; code that records an event outside a view (Celery
tasks, management commands) simply finds nothing bound and records no request meta.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


_EMPTY = RequestMeta()
_current: ContextVar[RequestMeta] = ContextVar("zk_request_meta", default=_EMPTY)  # noqa: B039 - frozen


def bind(meta: RequestMeta) -> None:
    _current.set(meta)


def current_request_id() -> str:
    return _current.get().request_id


def current_request_meta(request: Any = None) -> RequestMeta:
    meta = getattr(request, "audit_meta", None)
    return meta if isinstance(meta, RequestMeta) else _current.get()
