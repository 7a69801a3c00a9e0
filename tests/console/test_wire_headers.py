"""What the console shows as sent is what went out: every header, the ones the HTTP library
adds included (User-Agent, Accept, Accept-Encoding, Connection, the JSON Content-Type, the
length), compared with what a fake platform on loopback received."""

from __future__ import annotations

import json

import pytest

from apps.console.models import ConsoleCall
from apps.vault.services import credential_create

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "t-wire-token-0123456789abcdef"


@pytest.fixture
def echo(users, upstream):
    credential_create(
        by=users.admin,
        provider="feishu",
        name="wire",
        slug="wire",
        environment="test",
        base_url=f"http://127.0.0.1:{upstream.server_port}",
        public={"app_id": "cli_wire"},
        secrets={"app_secret": "wire-secret-0123456789"},
        allowed_users=[users.developer],
    )
    upstream.token_path = "/open-apis/auth/v3/tenant_access_token/internal"
    upstream.token_body = json.dumps(
        {"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 7200}
    ).encode()
    upstream.reply = (200, {}, b'{"code":0,"msg":"ok","data":{}}')
    return upstream


SEND = {
    "credential": "wire",
    "method": "POST",
    "path": "/open-apis/im/v1/messages",
    "query": "receive_id_type=open_id",
    "headers": "X-Custom: 1",
    "body": json.dumps({"receive_id": "ou_1", "msg_type": "text", "content": "{}"}),
}


def test_the_history_shows_every_header_that_went_out(client_as, echo):
    client_as("developer").post("/console/send/", SEND, HTTP_HX_REQUEST="true")
    path, received, body = echo.received[-1]
    assert path.startswith("/open-apis/im/v1/messages")
    shown = ConsoleCall.objects.get().request_headers
    received.pop("Host")
    assert set(shown) == set(received), (shown, received)
    for name, value in received.items():
        expected = value.replace(TOKEN, "«redacted»") if name == "Authorization" else value
        assert shown[name].startswith(expected.split(TOKEN)[0]), (name, shown[name], value)
    assert received["Content-Type"] == "application/json"
    assert received["Content-Length"] == str(len(body))
    assert {"User-Agent", "Accept", "Accept-Encoding", "Connection"} <= set(received)


def test_the_preview_names_what_the_http_library_adds(client_as, echo):
    html = client_as("developer").post("/console/preview/", SEND).content.decode()
    assert "Content-Type: application/json" in html
    assert "User-Agent: zhongkong/" in html and "Accept-Encoding: gzip, deflate" in html
    assert html.count("← HTTP 库添加") >= 5
    assert "X-Custom: 1" in html
