"""Small helpers several test modules share."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

from django.db import connection


def free_port(avoid: range = range(0)) -> int:
    """A free port on loopback, outside `avoid` (ports promised to another server)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def free_port_range(count: int) -> int:
    """The first of `count` consecutive free ports (the sandbox's origins)."""
    for _ in range(100):
        base = free_port()
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def all_rows() -> str:
    """Every row of every table, as text: what a search for a leaked value looks through."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def feishu_sandbox_credential(base: str, slug: str):
    """A Feishu credential (slug `slug`) on the sandbox of the server at `base`."""
    from apps.providers.registry import get_provider
    from apps.sandbox.services import sandbox_app_register
    from apps.vault.services import credential_create

    app, secret = sandbox_app_register(provider="feishu", app_id=f"{slug}-app")
    values = get_provider("feishu").sample_values(app.app_id, secret)
    return credential_create(
        by=None,
        provider="feishu",
        name=slug,
        slug=slug,
        environment="test",
        base_url=f"{base}/sandbox/feishu",
        public={"app_id": values["app_id"]},
        secrets={"app_secret": values["app_secret"]},
    )


def stopped_alert(subject: str = "x", **fields):
    """An alert row of the "stopped" rule for `subject`, open unless `fields` say otherwise."""
    from django.utils import timezone

    from apps.alerts.models import Alert, Rule

    now = timezone.now()
    values = {
        "key": f"stopped:{subject}",
        "rule": Rule.STOPPED,
        "subject": subject,
        "severity": "critical",
        "title_zh": "t",
        "title_en": "t",
        "text_zh": "t",
        "text_en": "t",
        "opened_at": now,
        "last_seen_at": now,
    }
    return Alert.objects.create(**{**values, **fields})


class FakeUpstream(BaseHTTPRequestHandler):
    """Answers the platform's token path with a token (or, given a list, each reply in
    turn) and every other path with the capture the test set on the server."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        server.received = [*getattr(server, "received", []), (self.path, dict(self.headers), body)]
        if self.path.split("?")[0] == server.token_path:
            server.token_calls = getattr(server, "token_calls", 0) + 1
            body = server.token_body  # a list: one reply per call, the last one repeated
            if isinstance(body, list):
                body = body.pop(0) if len(body) > 1 else body[0]
            status, headers = 200, {}
        else:
            status, headers, body = server.reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
