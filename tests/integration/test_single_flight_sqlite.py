"""Single-flight on the embedded default: SQLite, granian as `make run` starts it (two
processes of eight threads), the emulators at their own origins."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import free_port, free_port_range

from .conftest import ROOT, embedded, wait_for

pytestmark = pytest.mark.integration


def test_fifty_concurrent_refreshes_fetch_once_on_sqlite(tmp_path):
    origins = free_port_range(8)
    port = free_port(avoid=range(origins, origins + 8))
    env, manage = embedded(
        tmp_path,
        SITE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_HOSTS="127.0.0.1",
        TOKEN_WAIT_POLL="0.05",
        SANDBOX_ORIGIN_PORT=str(origins),
    )
    manage("bootstrap")
    key = manage("client_key", "create", "--name", "load", "--credential", "demo-feishu").strip()
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
            "2",
            "--blocking-threads",
            "8",
            "--no-ws",
            "project.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The demo credentials point at the emulators' own origins, as `make run` serves them.
    origins = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_origins"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}

        def up():
            try:
                return requests.get(f"{base}/api/v1/openapi.json", timeout=2).ok
            except requests.RequestException:
                return False

        assert wait_for(up, timeout=30)
        origin = f"http://127.0.0.1:{env['SANDBOX_ORIGIN_PORT']}"

        def origin_up():
            try:
                return requests.post(
                    f"{origin}/open-apis/auth/v3/tenant_access_token/internal", json={}, timeout=2
                ).ok
            except requests.RequestException:
                return False

        assert wait_for(origin_up, timeout=30)  # the Feishu emulator's own origin
        first = requests.get(f"{base}/api/v1/tokens/demo-feishu", headers=headers, timeout=30)
        assert first.status_code == 200, first.text
        # A platform answering in 100 ms: every one of fifty callers waits for the one fetch.
        manage(
            "shell",
            "-c",
            "from apps.sandbox.models import SandboxFault; "
            "SandboxFault.objects.create(provider='feishu', path_prefix='/open-apis/auth', "
            "kind='delay', value=100)",
        )

        def fetched() -> int:
            counted = manage(
                "shell",
                "-c",
                "from apps.sandbox.core import fetches; "
                "print(fetches('feishu', 'cli_demo0000000001'))",
            )
            return int(counted.strip().splitlines()[-1])

        def herd(token: str) -> list[requests.Response]:
            rejected = json.dumps({"rejected_token": token})

            def call(_):
                return requests.post(
                    f"{base}/api/v1/tokens/demo-feishu/refresh",
                    headers=headers,
                    data=rejected,
                    timeout=60,
                )

            with ThreadPoolExecutor(max_workers=50) as pool:
                return list(pool.map(call, range(50)))

        # Feishu hands the same token back while 30 minutes of it remain: one fetch, fifty
        # answers saying so.
        responses = herd(first.json()["access_token"])
        assert [r.status_code for r in responses] == [200] * 50, responses[0].text
        assert {(r.json()["version"], r.json()["reissued"]) for r in responses} == {(2, True)}
        assert fetched() == 2
        # Fewer than 30 minutes left: the one fetch brings a new token, for all fifty.
        manage(
            "shell",
            "-c",
            "from apps.sandbox.models import SandboxApp; "
            "SandboxApp.objects.filter(provider='feishu').update(reissue_window=7201); "
            "from apps.tokens.models import AccessToken; "
            "AccessToken.objects.update(rejection_until=None)",
        )
        responses = herd(first.json()["access_token"])
        assert [r.status_code for r in responses] == [200] * 50, responses[0].text
        assert {(r.json()["version"], r.json()["reissued"]) for r in responses} == {(3, False)}
        assert fetched() == 3
    finally:
        for process in (server, origins):
            process.send_signal(signal.SIGTERM)
            process.wait(30)
