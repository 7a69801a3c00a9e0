"""Each emulated platform as an origin of its own: a port per platform with the platform's
paths at its root, so that an official SDK needs only its domain (endpoint) changed.

The origin answers as the platform would: its requests go straight to the emulator's views,
past Zhongkong's middleware, so no reply carries Zhongkong's headers (request id, CSP,
`Vary: Cookie`, `Content-Language`) and the Host header is not checked against
ALLOWED_HOSTS (an SDK sends `127.0.0.1:<port>`). `/sandbox/<platform>/` on Zhongkong's own
port stays as an alias."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

# The order fixes each platform's port: SANDBOX_ORIGIN_PORT + index.
PLATFORMS = ("feishu", "feishu_project", "flashduty", "freelog", "itrigger", "wechat", "wecom",
             "dingtalk")


def origin_port(provider: str, base_port: int | None = None) -> int:
    return (base_port or settings.SANDBOX_ORIGIN_PORT) + PLATFORMS.index(provider)


def origin_url(provider: str, host: str | None = None, base_port: int | None = None) -> str:
    return f"http://{host or settings.SANDBOX_ORIGIN_HOST}:{origin_port(provider, base_port)}"


class PlatformOrigin(WSGIHandler):
    """Django's WSGI handler for one platform's emulator: its URL patterns at the root and
    none of the project's middleware."""

    def __init__(self, provider: str) -> None:
        self.urlconf = f"apps.sandbox.platforms.{provider}"
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def get_response(self, request):
        request.urlconf = self.urlconf
        return super().get_response(request)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _ClosingDb:
    """Closes the thread's database connections after each request (a thread per request)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        finally:
            connections.close_all()


def start(host: str, base_port: int, providers: tuple[str, ...] = PLATFORMS
          ) -> dict[str, WSGIServer]:
    """Serve each platform's origin in a thread of this process; returns the servers."""
    servers = {}
    for provider in providers:
        port = base_port + PLATFORMS.index(provider) if base_port else 0
        server = make_server(host, port, _ClosingDb(PlatformOrigin(provider)),
                             server_class=_Server, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, name=f"sandbox-{provider}",
                         daemon=True).start()
        servers[provider] = server
    return servers
