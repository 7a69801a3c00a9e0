"""The token API as production serves it (project/wsgi.py): through its own short middleware
stack, with the same answers and the headers that matter, and none of the pages' (session,
CSRF, language, CSP)."""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _call(app, path: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(response_headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
               "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
               "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
               **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}}
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_production_serves_the_token_api_through_its_own_stack(token_credential, client_key):
    from project.wsgi import application

    credential, _ = token_credential(slug="fs-lean")
    _, key = client_key(credential)
    status, headers, body = _call(application, "/api/v1/tokens/fs-lean",
                                  {"Authorization": f"Bearer {key}"})
    assert status.startswith("200") and b'"access_token"' in body
    assert headers["Cache-Control"] == "no-store" and headers["X-Request-ID"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Vary" not in headers and "Content-Language" not in headers
    assert not any(k.lower().startswith("content-security-policy") for k in headers)
    status, headers, _ = _call(application, "/api/v1/tokens/fs-lean", {})
    assert status.startswith("401") and headers["X-Request-ID"]
    status, headers, body = _call(application, "/accounts/login/", {})
    assert status.startswith("200") and "Content-Language" in headers  # the pages' stack
