"""A receiver whose error page echoes the request line (Express's "Cannot POST /hooks/…")
leaves no part of a channel's key on any page, flash message, audit event or export, in
any encoding: the redaction covers every secret part of the address, not only its whole."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from apps.alerts.models import Channel, Delivery, Rule
from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "Zk9hookKEY0a1b2c3d4e5f6"  # what the receiver calls its key, in the path or query
TOKEN = "q7TOKENvalue8x9y0zAbCd"
ADDRESSES = {
    "feishu": "/open-apis/bot/v2/hook/{key}",
    "dingtalk": "/robot/send?access_token={key}",
    "wecom": "/cgi-bin/webhook/send?key={key}",
    "flashduty": "/event/push/alert/standard?integration_key={key}",
    "webhook": "/hooks/{key}/notify?token={token}",
}


class Echo(BaseHTTPRequestHandler):
    """Answers 404 echoing the request line raw, URL-encoded, JSON-escaped and in base64,
    in every field the adapters read a message from, and as text for a plain webhook."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        line = f"Cannot POST {self.path}"
        echoes = " | ".join(
            [line, quote(self.path, safe=""), base64.b64encode(self.path.encode()).decode()]
        )
        if "/hooks/" in self.path:
            body, kind = f"<pre>{echoes}</pre>".encode(), "text/html"
        else:
            body = json.dumps(
                {
                    "code": 404,
                    "msg": echoes,
                    "errcode": 404,
                    "errmsg": echoes,
                    "StatusCode": 404,
                    "StatusMessage": echoes,
                    "error": {"code": "RouteNotFound", "message": echoes},
                    "message": echoes,
                }
            ).encode()
            kind = "application/json"
        self.send_response(404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _read(response) -> str:
    return b"".join(response.streaming_content).decode()


def _secrets() -> list[str]:
    forms = set()
    for value in (KEY, TOKEN):
        forms |= {value, quote(value), base64.b64encode(value.encode()).decode()[:20]}
    return sorted(forms)


@pytest.mark.parametrize("kind", sorted(ADDRESSES))
def test_an_echoing_receiver_leaves_no_key_anywhere(kind, echo, client_as):
    admin, auditor = client_as("admin"), client_as("auditor")
    url = echo + ADDRESSES[kind].format(key=KEY, token=TOKEN)
    response = admin.post(
        "/alerts/channels/new/",
        {
            "name": "Echo",
            "kind": kind,
            "url": url,
            "secret": "signing-secret-123456" if kind in {"feishu", "dingtalk", "webhook"} else "",
            "email_to": "",
            "rules": [Rule.STOPPED],
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    channel = Channel.objects.get()
    flashed = admin.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert "«redacted»" in delivery.error  # the echo was there, and was redacted
    pages = [
        flashed,
        admin.get("/alerts/").content.decode(),
        admin.get(f"/alerts/channels/{channel.pk}/").content.decode(),
        auditor.get("/audit/").content.decode(),
        _read(auditor.get("/audit/export.csv")),
        _read(auditor.get("/audit/export.jsonl")),
        json.dumps([e.details for e in AuditEvent.objects.all()]),
        delivery.error,
    ]
    for secret in _secrets():
        assert not any(secret in page for page in pages), secret
