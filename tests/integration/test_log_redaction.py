"""No query value reaches a log line: the Procfile's granian with its access log (here in a
format that even prints the query string), JSON logs as in production, requests carrying a
client key, a platform's key and a token in their query strings, answered 401, 404 and 500."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest
import requests

from apps.core.log import RedactQueryFilter
from apps.sandbox.models import SandboxFault
from tests.helpers import free_port

from .conftest import ROOT, child_env, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CANARIES = {
    "client key": "zkck_CANARYclientkey0001",
    "app key": "CANARYappkey0002",
    "token": "t-CANARYtoken0003",
    "bot key": "CANARYbotkey0004",
}


def test_query_values_never_reach_the_logs(tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="status", value=500
    )
    with open(log, "w") as out:
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
                "--access-log",
                "--access-log-fmt",
                '%(addr)s "%(method)s %(path)s?%(query_string)s" %(status)d',
                "project.wsgi:application",
            ],
            cwd=ROOT,
            env=child_env(LOG_FORMAT="json", LOG_LEVEL="INFO"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            assert wait_for(lambda: _up(base), timeout=30)
            answers = [
                requests.get(f"{base}/api/v1/tokens/nope?key={CANARIES['client key']}", timeout=10),
                requests.get(
                    f"{base}/sandbox/flashduty/incident/list?app_key={CANARIES['app key']}",
                    timeout=10,
                ),
                requests.post(
                    f"{base}/sandbox/feishu/open-apis/auth/v3/tenant_access_token/internal"
                    f"?access_token={CANARIES['token']}&receive_id_type=chat_id",
                    json={},
                    timeout=10,
                ),
                requests.get(f"{base}/no/such/page?key={CANARIES['bot key']}&x=1", timeout=10),
            ]
            time.sleep(1)
        finally:
            server.terminate()
            server.wait(30)
    assert sorted(a.status_code for a in answers)[0] >= 400
    assert 500 in {a.status_code for a in answers}
    text = log.read_text()
    for name, canary in CANARIES.items():
        assert canary not in text, f"the {name} reached the log"
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "granian.access"]
    assert any("/api/v1/tokens/nope?key=[redacted]" in line["message"] for line in access)
    errors = [line for line in lines if line.get("logger") == "django.request"]
    assert any(line["level"] == "ERROR" for line in errors)  # the 500 was logged, redacted


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


def test_the_filter_covers_message_request_exception_and_extra():
    class Request:
        method, path = "GET", "/api/v1/tokens/x"

        def __repr__(self):
            return "<WSGIRequest: GET '/api/v1/tokens/x?key=zkck_SECRET'>"

    try:
        raise ValueError("Max retries exceeded with url: /cgi-bin/token?secret=APPSECRET")
    except ValueError:
        import sys as _sys

        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Error: %s",
            ("/x?t=TOKEN",),
            _sys.exc_info(),
        )
    record.request = Request()
    record.url = "https://h/p?access_token=EXTRA"
    assert RedactQueryFilter().filter(record)
    out = logging.Formatter("%(message)s %(request)s %(url)s").format(record)
    for secret in ("zkck_SECRET", "APPSECRET", "TOKEN", "EXTRA"):
        assert secret not in out
    assert "/x?t=[redacted]" in out and "secret=[redacted]" in out
