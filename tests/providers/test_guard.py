"""SSRF matrix: every target is refused before any connection is made (a listener sees none)."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import pytest

from apps.providers.base import OutboundRequest
from apps.providers.guard import is_public
from apps.providers.sender import send


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that counts the connections it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.3)
    yield server

    server.close()


def _connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except (TimeoutError, OSError):
            return count
        conn.close()
        count += 1


MATRIX = [
    "127.0.0.1",
    "localhost",
    "0x7f.1",
    "2130706433",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "169.254.169.254",
    "100.64.0.1",
    "10.0.0.1",
]


@pytest.mark.parametrize("host", MATRIX)
def test_non_public_targets_are_refused_even_when_named_as_the_platform(listener, host):
    port = listener.getsockname()[1]
    url = f"https://{host}:{port}/open-apis/x"
    allowed = {urlsplit(url).hostname}  # as if an admin had set this base URL
    sent = send(OutboundRequest("GET", url), allowed_hosts=allowed)
    assert sent.error.startswith("refused"), sent
    assert _connections(listener) == 0


def test_a_name_resolving_to_loopback_is_refused(listener, monkeypatch):
    port = listener.getsockname()[1]

    def fake_dns(host, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    sent = send(
        OutboundRequest("GET", f"https://open.feishu.cn:{port}/x"), allowed_hosts={"open.feishu.cn"}
    )
    assert "non-public" in sent.error and _connections(listener) == 0


def test_another_host_than_the_platform_is_refused(listener):
    port = listener.getsockname()[1]
    sent = send(
        OutboundRequest("GET", f"https://example.com:{port}/"), allowed_hosts={"open.feishu.cn"}
    )
    assert "not the credential's platform host" in sent.error
    assert _connections(listener) == 0


def test_a_redirect_to_loopback_is_shown_not_followed(listener, settings):
    target_port = listener.getsockname()[1]

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target_port}/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    platform = HTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=platform.serve_forever, daemon=True)
    thread.start()
    try:
        settings.CONSOLE_INTERNAL_TARGETS = [f"127.0.0.1:{platform.server_port}"]
        sent = send(
            OutboundRequest("GET", f"http://127.0.0.1:{platform.server_port}/x"),
            allowed_hosts={"127.0.0.1"},
            internal=settings.CONSOLE_INTERNAL_TARGETS,
        )
    finally:
        platform.shutdown()
        platform.server_close()
    assert sent.status == 302 and sent.redirect_to == f"http://127.0.0.1:{target_port}/"
    assert _connections(listener) == 0


@pytest.mark.parametrize(
    "address,public",
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a00:1", False),
        ("64:ff9b::808:808", True),
        ("2002:7f00:1::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        # The IANA special-purpose registries, "Globally Reachable" column, where Python's
        # own table lags (3.11.7 calls the first four global).
        ("192.0.0.8", False),  # IETF protocol assignments (192.0.0.0/24)
        ("192.88.99.1", False),  # 6to4 relay anycast, deprecated
        ("fec0::1", False),  # site local, deprecated
        ("3fff::1", False),  # documentation, RFC 9637
        ("192.0.0.1", False),
        ("192.0.0.170", False),  # NAT64/DNS64 discovery
        ("192.0.2.1", False),  # TEST-NET-1
        ("198.18.0.1", False),  # benchmarking
        ("198.51.100.1", False),
        ("203.0.113.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("64:ff9b:1::1", False),  # local-use translation
        ("100::1", False),  # discard-only
        ("100:0:0:1::1", False),  # dummy prefix
        ("2001:2::1", False),  # benchmarking
        ("2001:10::1", False),  # ORCHID, deprecated
        ("2001:db8::1", False),  # documentation
        ("5f00::1", False),  # SRv6 SIDs
        ("::1", False),
        # Globally reachable although inside a special-purpose block.
        ("192.0.0.9", True),  # PCP anycast
        ("192.0.0.10", True),  # TURN anycast
        ("192.31.196.1", True),  # AS112-v4
        ("192.52.193.1", True),  # AMT
        ("192.175.48.1", True),  # direct delegation AS112
        ("2001:1::1", True),  # PCP anycast
        ("2001:1::3", True),  # DNS-SD SRP anycast
        ("2001:3::1", True),  # AMT
        ("2001:4:112::1", True),  # AS112-v6
        ("2001:20::1", True),  # ORCHIDv2
        ("2001:30::1", True),  # DRIP DETs
        ("2620:4f:8000::1", True),  # AS112
    ],
)
def test_is_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def test_plain_http_only_for_internal_targets():
    sent = send(OutboundRequest("GET", "http://open.feishu.cn/x"), allowed_hosts={"open.feishu.cn"})
    assert "https" in sent.error


# --- the same matrix for token fetches and "test connection" --------------------------------

LITERAL_MATRIX = [
    "127.0.0.1",
    "0x7f.1",
    "2130706433",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "0.0.0.0",
    "[::ffff:10.1.2.3]",
]
NEVER_CONNECTED = ["169.254.169.254", "100.64.0.1", "10.0.0.1", "192.168.1.1", "[fd00::1]"]


@pytest.fixture
def stale_credential(db, settings):
    """A credential whose base URL was saved before base URLs were checked."""
    from apps.vault.models import Credential
    from apps.vault.services import credential_create

    settings.CONSOLE_INTERNAL_TARGETS = []  # not even this machine's own sandbox

    def make(base_url: str):
        credential = credential_create(
            by=None,
            provider="feishu",
            name="x",
            slug="x",
            environment="test",
            public={"app_id": "cli_x"},
            secrets={"app_secret": "s3cr3t-value"},
        )
        Credential.objects.filter(pk=credential.pk).update(base_url=base_url)
        return Credential.objects.get(pk=credential.pk)

    return make


@pytest.mark.parametrize("host", LITERAL_MATRIX + NEVER_CONNECTED)
def test_token_fetch_and_test_connection_never_reach_a_non_public_address(
    listener, stale_credential, host
):
    from apps.tokens.services import TokenUnavailable, token_refresh
    from apps.vault.services import credential_test

    port = listener.getsockname()[1]
    credential = stale_credential(f"https://{host}:{port}")
    with pytest.raises(TokenUnavailable):
        token_refresh(credential_id=credential.pk, reason="on_demand")
    result = credential_test(credential=credential, by=None)
    assert not result.ok and "refused" in result.error
    assert _connections(listener) == 0


def test_a_token_fetch_to_a_name_resolving_to_loopback_is_refused(
    listener, stale_credential, monkeypatch
):
    from apps.tokens.models import AccessToken
    from apps.tokens.services import TokenUnavailable, token_refresh

    port = listener.getsockname()[1]
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
    )
    credential = stale_credential(f"https://open.feishu.cn:{port}")
    with pytest.raises(TokenUnavailable):
        token_refresh(credential_id=credential.pk, reason="on_demand")
    assert "non-public" in AccessToken.objects.get(credential=credential).last_error["problem"]
    assert _connections(listener) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://open.feishu.cn",
        "https://10.0.0.1",
        "https://169.254.169.254/latest",
        "https://[::ffff:10.0.0.1]",
        "https://0.0.0.0",
        "https://localhost:8443",
        "https://user:pw@open.feishu.cn",
        "http://127.0.0.1:6379",
        "ftp://open.feishu.cn",
    ],
)
def test_a_base_url_to_a_non_public_target_cannot_be_saved(db, settings, url):
    from apps.vault.services import credential_create

    settings.CONSOLE_INTERNAL_TARGETS = ["127.0.0.1:8001"]  # the sandbox's own origin only
    with pytest.raises(ValueError, match="base URL refused"):
        credential_create(
            by=None,
            provider="feishu",
            name="x",
            slug="x",
            environment="test",
            base_url=url,
            public={"app_id": "a"},
            secrets={"app_secret": "s"},
        )


def test_the_sandbox_origin_and_public_https_can_be_saved(db, settings):
    from apps.vault.services import credential_create

    settings.CONSOLE_INTERNAL_TARGETS = ["127.0.0.1:8001"]
    for slug, url in (("a", "http://127.0.0.1:8001"), ("b", "https://open.larksuite.com")):
        credential_create(
            by=None,
            provider="feishu",
            name=slug,
            slug=slug,
            environment="test",
            base_url=url,
            public={"app_id": "a"},
            secrets={"app_secret": "s"},
        )
