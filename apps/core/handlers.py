"""A WSGI handler with a middleware stack of its own: for the parts of the product that need
none of what the pages need (sessions, CSRF, authentication, messages, axes, CSP, htmx,
language): the token API on the hot path, and the sandbox's platform origins (none at all)."""

from __future__ import annotations

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import set_urlconf
from django.utils.module_loading import import_string


class LeanHandler(WSGIHandler):
    def __init__(self, *, urlconf: str, middleware: tuple[str, ...] = ()):
        self.urlconf, self.middleware = urlconf, middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(self.middleware):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def get_response(self, request):
        # The thread's URLconf is this handler's only while it answers: a server closing the
        # response resets it too, but a caller that never closes it must not leave the next
        # request on this thread reversing names against the wrong URLconf.
        request.urlconf = self.urlconf
        try:
            return super().get_response(request)
        finally:
            set_urlconf(None)


# What the token API needs in front of it: HTTPS and header policy, a request id, the body cap.
TOKEN_API_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RequestIDMiddleware",
    "apps.core.middleware.BodyTooLargeMiddleware",
)


def token_api_handler() -> LeanHandler:
    return LeanHandler(urlconf="apps.tokens.api_root_urls", middleware=TOKEN_API_MIDDLEWARE)
