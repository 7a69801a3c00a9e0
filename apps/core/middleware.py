from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from apps.audit.context import RequestMeta, bind

# An incoming id is honoured only when it looks like an id: no spaces, quotes or newlines
# that could forge log lines, and not absurdly long.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies in front of us saw."""
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


class RequestIDMiddleware:
    """Gives every request an id, returns it as X-Request-ID, binds it for logs and audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        meta = RequestMeta(request_id, client_ip(request),
                           request.headers.get("User-Agent", "")[:256])
        request.audit_meta = meta
        # Bound until the response is closed (request_finished unbinds), so that Django's own
        # "Not Found"/"Internal Server Error" log lines, written after the middleware chain,
        # still carry the id.
        bind(meta)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
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
