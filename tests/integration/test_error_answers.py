"""Answers off the happy path, on the Procfile's server: the token API's JSON 405 with
Allow, a 413 with the page's security headers that closes the connection, and a page asked
for while PostgreSQL is away (503 saying so, not a 500)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import requests

from tests.helpers import free_port

from .conftest import ROOT, child_env, procfile_web, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_token_api_answers_json_405_with_allow(live_server):
    for method, path, allow in [
        ("DELETE", "/api/v1/tokens/x", "GET, HEAD"),
        ("PUT", "/api/v1/tokens/x/refresh", "POST"),
        ("POST", "/api/v1/openapi.json", "GET, HEAD"),
    ]:
        answer = requests.request(method, live_server.url + path, timeout=10)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["Allow"] == allow
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["error"]["code"] == "method_not_allowed"
        assert answer.headers["X-Request-ID"] == answer.json()["request_id"]


def test_a_body_too_large_is_answered_with_the_security_headers_and_closes(tmp_path):
    port = free_port()
    with procfile_web(port):
        body = b"x" * (3 * 1024 * 1024)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            conn.sendall(body[:65536])
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
        headers = head.split(b"\r\n\r\n")[0].decode().lower()
        assert headers.startswith("http/1.1 413")
        assert "content-security-policy:" in headers and "x-frame-options: deny" in headers
        assert "connection: close" in headers


def test_a_page_while_the_database_is_away_is_a_503_that_says_so(tmp_path):
    port, dead = free_port(), free_port()  # nothing listens where the database should be
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-ws",
            "project.wsgi:application",
        ],
        cwd=ROOT,
        env=child_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead}/gone"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(f"{base}/healthz", timeout=5).status_code
            except requests.RequestException:
                return None

        assert wait_for(up, timeout=30) == 503
        page = requests.get(
            f"{base}/console/", cookies={"sessionid": "a-signed-in-browser"}, timeout=10
        )
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "数据库暂时无法连接" in page.text and "database cannot be reached" in page.text
        assert "content-security-policy" in {k.lower() for k in page.headers}
    finally:
        server.terminate()
        server.wait(30)
