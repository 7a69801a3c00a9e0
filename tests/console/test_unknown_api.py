"""A catalogued API the Feishu emulator does not emulate answers through the console as the
platform's own 404 (decoded: no API at this path), not as a gateway error page."""

from __future__ import annotations

import pytest

from apps.console.models import ConsoleCall

pytestmark = pytest.mark.django_db(transaction=True)
UNKNOWN = "/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf"


def test_the_console_shows_the_platforms_404_for_a_catalogued_api_not_emulated(client_as, feishu):
    send = {
        "credential": "fs",
        "method": "GET",
        "path": UNKNOWN,
        "query": "",
        "headers": "",
        "body": "",
    }
    html = client_as("developer").post("/console/send/", send, HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert html.status_code == 200
    call = ConsoleCall.objects.get()
    assert call.status == 404 and not call.ok
    assert "404 page not found" in text
    assert call.classification == "client_error"
    assert "请检查请求方法和路径" in text and "HTML" not in text
