"""Each emulated platform as an origin of its own: a port per platform with the platform's
paths at its root, so that an official SDK needs only its domain (endpoint) changed.

The origin answers as the platform would: its requests go straight to the emulator's views,
past Zhongkong's middleware, so no reply carries Zhongkong's headers (request id, CSP,
`Vary: Cookie`, `Content-Language`) and the Host header is not checked against
ALLOWED_HOSTS (an SDK sends `127.0.0.1:<port>`). `/sandbox/<platform>/` on Zhongkong's own
port stays as an alias.

Each origin is served by cheroot (CherryPy's WSGI server: HTTP/1.1 with keep-alive and
chunked bodies, a pool of threads) in threads of one process, as the platforms serve
HTTP/1.1; the standard library's wsgiref speaks HTTP/1.0 and closes every connection."""

from __future__ import annotations

import logging
import threading

from cheroot import wsgi
from django.conf import settings
from django.db import connections

from apps.core.handlers import LeanHandler

logger = logging.getLogger(__name__)

# The order fixes each platform's port: SANDBOX_ORIGIN_PORT + index.
PLATFORMS = (
    "feishu",
    "feishu_project",
    "flashduty",
    "freelog",
    "itrigger",
    "wechat",
    "wecom",
    "dingtalk",
)


def origin_port(provider: str, base_port: int | None = None) -> int:
    return (base_port or settings.SANDBOX_ORIGIN_PORT) + PLATFORMS.index(provider)


def origin_url(provider: str, host: str | None = None, base_port: int | None = None) -> str:
    return f"http://{host or settings.SANDBOX_ORIGIN_HOST}:{origin_port(provider, base_port)}"


def platform_origin(provider: str) -> LeanHandler:
    """Django for one platform's emulator: its URL patterns at the root, no middleware."""
    return LeanHandler(urlconf=f"apps.sandbox.platforms.{provider}")


class _ClosingDb:
    """Closes the thread's database connections after each request (a thread per request)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        finally:
            connections.close_all()


class Origin:
    """One platform's origin being served: its port, and how to stop it."""

    def __init__(self, server: wsgi.Server) -> None:
        self.server = server
        self.port = server.bind_addr[1]

    def stop(self) -> None:
        self.server.stop()


def start(host: str, base_port: int, providers: tuple[str, ...] = PLATFORMS) -> dict[str, Origin]:
    """Serve each platform's origin in threads of this process; returns the servers."""
    servers = {}
    for provider in providers:
        port = base_port + PLATFORMS.index(provider) if base_port else 0
        server = wsgi.Server(
            (host, port),
            _ClosingDb(platform_origin(provider)),
            numthreads=8,
            server_name=f"sandbox-{provider}",
            timeout=30,
        )
        try:
            server.prepare()  # binds: the real port is known from here
        except OSError as exc:  # the port is taken: the other platforms still serve
            logger.error("sandbox %s cannot listen on %s:%s: %s", provider, host, port, exc)
            continue
        threading.Thread(target=server.serve, name=f"sandbox-{provider}", daemon=True).start()
        servers[provider] = Origin(server)
    return servers
