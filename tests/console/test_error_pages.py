"""No error page shows a secret or a token, in any mode: a send that fails after the token
was fetched and the auth applied (the decrypted secret and the live token are in the
frames' locals, the body in POST) answers a page without them, with DEBUG on or off."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote

import pytest

from apps.tokens.models import AccessToken

pytestmark = pytest.mark.django_db(transaction=True)


def encodings(value: str) -> list[str]:
    return [
        value,
        json.dumps(value)[1:-1],
        quote(value, safe=""),
        base64.b64encode(value.encode()).decode(),
        base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
    ]


@pytest.mark.parametrize("debug", [True, False])
def test_a_failing_send_shows_no_secret_or_token(
    client_as, feishu, monkeypatch, settings, caplog, debug
):
    _, secret = feishu
    settings.DEBUG = debug

    def broken_send(request, **kwargs):
        raise RuntimeError("the HTTP library failed")

    monkeypatch.setattr("apps.console.services.send", broken_send)
    client = client_as("developer")
    client.raise_request_exception = False
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            "/console/send/",
            {
                "credential": "fs",
                "method": "POST",
                "path": "/open-apis/im/v1/messages",
                "query": "receive_id_type=open_id",
                "headers": f"X-Echo: {secret}",
                "body": json.dumps({"app_secret": secret}),
            },
        )
    assert response.status_code == 500
    page = response.content.decode()
    if debug:
        assert "RuntimeError" in page and "console_send" in page  # the debug page it is
    token = AccessToken.objects.get().value()
    for value in (secret, token):
        for form in encodings(value):
            assert form not in page, "a secret or token on the error page"
            assert form not in caplog.text
