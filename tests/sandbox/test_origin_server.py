"""Each platform's origin is served over HTTP/1.1 as the platforms serve it: the reply says
HTTP/1.1, and a connection carries several requests (keep-alive, as SDKs' pooled clients use
it). The standard library's wsgiref, which served them before, answered HTTP/1.0 and closed
every connection."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("provider", ["feishu", "dingtalk", "wecom"])
def test_an_origin_speaks_http_1_1_and_keeps_the_connection(sandbox_origin, provider):
    origin = urlsplit(sandbox_origin(provider))
    connection = http.client.HTTPConnection(origin.hostname, origin.port, timeout=10)
    connection.request("GET", "/no/such/path")
    first = connection.getresponse()
    first.read()
    assert first.version == 11 and first.status == 404
    assert first.getheader("Connection", "").lower() != "close"
    sock = connection.sock
    connection.request("GET", "/no/such/path/either")
    second = connection.getresponse()
    second.read()
    assert second.status == 404 and connection.sock is sock  # the same connection
    connection.close()
