"""The token API's WSGI entry (project/wsgi.py routes /api/v1/tokens/ here).

The common request, `GET /api/v1/tokens/<slug>` by a valid key for a token held in process
memory, is answered by `api.handout_from_memory` before Django's request cycle: no request
or response object, no URL resolution, no middleware. Its headers are the ones the lean
Django stack would send, taken once from Django's own SecurityMiddleware. Every other
request, and any this path cannot answer (an unknown key, an entry not in memory, a rate
limit, a token to fetch, Redis away, an HTTP request that must be redirected to HTTPS), goes
to the view behind the lean handler, which answers and explains it.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware

from apps.core.middleware import request_id

from .api import handout_from_memory, user_handout_from_memory

logger = logging.getLogger(__name__)

# The path of `api.token_get` (its <slug:slug> converter), nothing after it; and of
# `api.user_token_get` (<slug:slug>/users/<str:user_id>).
TOKEN_GET = re.compile(r"/api/v1/tokens/([-a-zA-Z0-9_]+)(?:/users/([^/]+))?\Z")


def _secure(environ: dict) -> bool:
    """HttpRequest.is_secure() for this environ."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


@functools.cache
def _security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """What SecurityMiddleware adds to a response, for an HTTP or an HTTPS request."""
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "wsgi.url_scheme": "https" if secure else "http",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "443",
            "wsgi.input": io.BytesIO(),
        }
    )
    response = HttpResponse()
    before = set(response.headers)
    SecurityMiddleware(lambda r: response).process_response(request, response)
    return tuple((name, value) for name, value in response.headers.items() if name not in before)


def _user_id(raw: str) -> str:
    """The user id as Django's URL resolver would see it (PATH_INFO is latin-1-decoded
    bytes; percent escapes are already undone by the server)."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return "\0"  # no such user: the view answers


class TokenAPI:
    def __init__(self, handler: Callable):
        self.handler = handler  # the lean Django handler, for everything else

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        answered = None
        match = TOKEN_GET.match(environ.get("PATH_INFO", ""))
        if match and environ.get("REQUEST_METHOD") == "GET":
            secure = _secure(environ)
            if secure or not settings.SECURE_SSL_REDIRECT:
                try:
                    authorization = environ.get("HTTP_AUTHORIZATION", "")
                    if match[2] is None:
                        answered = handout_from_memory(authorization, match[1])
                    else:
                        answered = user_handout_from_memory(
                            authorization, match[1], _user_id(match[2])
                        )
                except Exception:  # the view tries again, and answers JSON whatever happens
                    logger.exception("token API: the in-memory path failed")
        if answered is None:
            return self.handler(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
                *_security_headers(secure),
                ("X-Request-ID", request_id(environ.get("HTTP_X_REQUEST_ID", ""))),
                ("Content-Length", str(len(answered))),
            ],
        )
        return [answered]
