from __future__ import annotations

import ipaddress
import re
import secrets

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext

from .context import RequestMeta, bind

# An incoming id is honoured only when it looks like an id: no spaces, quotes or newlines
# that could forge log lines, and not absurdly long.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


def request_id(incoming: str) -> str:
    """The caller's X-Request-ID when it looks like an id, else a new one (32 hex digits)."""
    return incoming if _SANE_REQUEST_ID.match(incoming) else secrets.token_hex(16)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]").split("%")[0])
    except ValueError:
        return None


def _trusted(address, proxies) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client: the TCP peer (REMOTE_ADDR), unless the peer is one of the
    configured proxies (TRUSTED_PROXIES, CIDRs); then X-Forwarded-For is read from the right,
    skipping every address that is itself a trusted proxy, and the first other one is the
    client. A direct caller's X-Forwarded-For is never believed, whatever it says."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXIES
    if not proxies or not _trusted(_address(peer or ""), proxies):
        return peer
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            return peer  # a hop that is no address: believe nothing past it
        if not _trusted(address, proxies):
            return str(address)
    return str(_address(forwarded[0])) if forwarded else peer


class RequestIDMiddleware:
    """Gives every request an id, returns it as X-Request-ID, binds it for logs and audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id(request.META.get("HTTP_X_REQUEST_ID", ""))
        meta = RequestMeta(
            request.request_id, client_ip(request), request.headers.get("User-Agent", "")[:256]
        )
        request.audit_meta = meta
        # Bound until the response is closed (request_finished unbinds), so that Django's own
        # "Not Found"/"Internal Server Error" log lines, written after the middleware chain,
        # still carry the id.
        bind(meta)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


@receiver(request_finished)
def _unbind_request_meta(**kwargs) -> None:
    bind(RequestMeta())


class ChosenLanguageMiddleware:
    """Chinese unless the user chose otherwise (language cookie); the browser is not asked.

    Zhongkong's users share screens and screenshots with Chinese platform support, so the
    interface language is a deliberate choice, not whatever the browser happens to send.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        try:
            language = translation.get_supported_language_variant(chosen)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


_TARGET_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _closing(response: HttpResponse) -> HttpResponse:
    """The body was not read: the connection cannot carry another request after it."""
    response["Connection"] = "close"
    return response


class BodyTooLargeMiddleware:
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a clear answer before anything
    reads it (Django would answer a bare 400 from the CSRF check): JSON with `no-store` on
    the API, the message swapped into the region an htmx request targets (replacing what
    was shown there), or a page saying so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # No page takes a file upload, so the whole body counts, whatever its encoding.
        if limit is None or length <= limit:
            return self.get_response(request)
        return _closing(self._too_large(request, length, limit))

    def _too_large(self, request: HttpRequest, length: int, limit: int) -> HttpResponse:
        message = gettext("The request is too large (%(size)s; at most %(limit)s).") % {
            "size": filesizeformat(length),
            "limit": filesizeformat(limit),
        }
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "error": {"code": "too_large", "message": message},
                    "request_id": getattr(request, "request_id", ""),
                },
                status=413,
            )
            response["Cache-Control"] = "no-store"
            return response
        target = request.headers.get("HX-Target", "")
        if request.headers.get("HX-Request") == "true" and _TARGET_ID.match(target):
            response = HttpResponse(
                format_html(
                    '<div id="{}" aria-live="polite"><p class="flash flash-error" '
                    'data-testid="too-large">{}</p></div>',
                    target,
                    message,
                ),
                status=422,
            )
            response["HX-Retarget"] = f"#{target}"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render(request, "413.html", {"message": message}, status=413)
