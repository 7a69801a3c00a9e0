"""`manage.py runall` on the embedded default (SQLite + file-system broker): the web serves
the login page and /healthz sees the worker and beat alive; Ctrl-C stops all of it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import free_port, free_port_range

from .conftest import ROOT, wait_for

pytestmark = pytest.mark.integration


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


def test_runall_serves_and_reports_worker_and_beat_alive(tmp_path):
    origins = free_port_range(8)
    port = free_port(avoid=range(origins, origins + 8))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "ENV_FILE": str(tmp_path / ".env"),
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "SANDBOX_ORIGIN_PORT": str(origins),
    }
    subprocess.run(
        [sys.executable, "-m", "apps.core.envfile", env["ENV_FILE"]],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    (tmp_path / "var").mkdir()
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    boot = subprocess.run(
        [*manage, "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    assert "one-time password" in boot.stdout
    log = open(tmp_path / "runall.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*manage, "runall", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _get(f"{base}/accounts/login/")[0] == 200, timeout=30)
        # What `make run` starts is production: a real server, no debug pages, static files
        # served by whitenoise.
        status, body = _get(f"{base}/no-such-page/")
        assert status == 404 and b"URLconf" not in body and b"DEBUG = True" not in body
        login = _get(f"{base}/accounts/login/")[1].decode()
        css = re.search(r'href="(/static/[^"]+\.css)"', login).group(1)
        assert _get(f"{base}{css}")[0] == 200

        def healthy():
            status, body = _get(f"{base}/healthz")
            return status == 200 and json.loads(body)

        report = wait_for(healthy, timeout=60, interval=2)
        assert report, (tmp_path / "runall.log").read_text()[-3000:]
        assert report["checks"]["worker"]["ok"] and report["checks"]["beat"]["ok"]
        # The Feishu emulator at its own origin, as an SDK is pointed at it: Feishu's own
        # answer to a bad app id, with none of Zhongkong's headers.
        origin = f"http://127.0.0.1:{env['SANDBOX_ORIGIN_PORT']}"
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{origin}/open-apis/auth/v3/tenant_access_token/internal",
            method="POST",
            data=b'{"app_id": "cli_nobody", "app_secret": "x"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - our own
            body, headers = json.loads(reply.read()), reply.headers
        assert body["code"] in (10003, 10014) and "X-Request-ID" not in headers
        # The token API under 200 concurrent business servers: no error.
        key = subprocess.run(
            [*manage, "client_key", "create", "--name", "load", "--credential", "demo-feishu"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        api = f"{base}/api/v1/tokens/demo-feishu"
        auth = {"Authorization": f"Bearer {key}"}
        assert requests.get(api, headers=auth, timeout=30).status_code == 200
        with ThreadPoolExecutor(max_workers=200) as pool:
            codes = list(
                pool.map(
                    lambda _: requests.get(api, headers=auth, timeout=30).status_code, range(200)
                )
            )
        assert codes == [200] * 200, sorted(set(codes))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.close()
    assert code == 0
    assert "stopped" in (tmp_path / "runall.log").read_text()
