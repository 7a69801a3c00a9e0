"""A hanging token endpoint with 50 callers, on the Procfile's server: no web worker is
killed, every caller gets an answer well inside the 30 s a load balancer waits, and other
pages answer within a second meanwhile (waiting requests are capped per process)."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apps.sandbox.models import SandboxFault
from tests.helpers import free_port

from .conftest import procfile_web

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _workers(master: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def test_a_hanging_platform_takes_no_worker_and_no_other_page(
    live_server, token_credential, client_key, tmp_path
):
    credential, _ = token_credential(slug="fs-hang")
    _, key = client_key(credential)
    SandboxFault.objects.create(
        provider="feishu",
        path_prefix="/open-apis/auth",
        kind=SandboxFault.Kind.DELAY,
        value=17_000,
        remaining=1,
    )
    port = free_port()
    with procfile_web(port, TOKEN_LEDGER_DIR=str(tmp_path / "ledger")) as (server, _):
        base = f"http://127.0.0.1:{port}"
        workers = _workers(server.pid)
        assert len(workers) == 4

        def call(_):
            started = time.monotonic()
            reply = requests.get(
                f"{base}/api/v1/tokens/fs-hang",
                timeout=60,
                headers={"Authorization": f"Bearer {key}"},
            )
            return reply, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=50) as pool:
            pending = [pool.submit(call, n) for n in range(50)]
            time.sleep(2)  # every caller is in: one fetching, some waiting, the rest told
            other = []
            for _ in range(5):
                started = time.monotonic()
                page = requests.get(f"{base}/accounts/login/", timeout=10)
                other.append((page.status_code, time.monotonic() - started))
            results = [f.result() for f in pending]
        assert all(status == 200 and took < 1.0 for status, took in other), other
        assert all(r.headers["Content-Type"].startswith("application/json") for r, _ in results)
        assert {r.status_code for r, _ in results} <= {200, 502, 503}
        assert max(took for _, took in results) < 30
        assert _workers(server.pid) == workers  # none killed and replaced
    time.sleep(3)  # the emulator's abandoned sleep ends inside this test
