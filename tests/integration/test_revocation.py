"""Revocation is immediate on the embedded default too: two granian workers with the
per-process cache (no Redis), a key used on both, revoked, then refused by every request."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from tests.helpers import free_port

from .conftest import ROOT, embedded, wait_for

pytestmark = pytest.mark.integration


def test_a_revoked_key_is_refused_at_once_by_every_worker(tmp_path):
    port = free_port()
    env, manage = embedded(tmp_path, ALLOWED_HOSTS="127.0.0.1", SANDBOX_ENABLED="false")
    # Disabled, so that the API answers without fetching a token from anywhere.
    manage(
        "shell",
        "-c",
        "from apps.vault.services import credential_create; "
        "credential_create(by=None, provider='feishu', name='fd', "
        "slug='fd', environment='test', public={'app_id': 'cli_x'}, "
        "secrets={'app_secret': 'a-secret-123'}, enabled=False)",
    )
    key = manage("client_key", "create", "--name", "svc", "--credential", "fd").strip()
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
            "--no-ws",
            "project.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/tokens/fd"
        headers = {"Authorization": f"Bearer {key}"}

        def up():
            try:
                return requests.get(url, headers=headers, timeout=2).status_code
            except requests.RequestException:
                return None

        assert wait_for(up, timeout=30)
        before = {requests.get(url, headers=headers, timeout=5).status_code for _ in range(20)}
        assert 401 not in before  # accepted by both workers
        manage(
            "shell",
            "-c",
            "from apps.tokens.models import ClientKey; "
            "from apps.tokens.services import client_key_revoke; "
            "client_key_revoke(key=ClientKey.objects.get(), by=None)",
        )
        after = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(20)]
        assert after == [401] * 20
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
