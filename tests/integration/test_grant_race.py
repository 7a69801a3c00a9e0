"""A user's single-use refresh token under a herd: 20 processes ask for the user's token at
the moment it expires; the platform sees one refresh, the grant survives, all get the new
token."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests
from django.utils import timezone

from apps.sandbox import oauth
from apps.tokens.models import UserGrant
from tests.helpers import free_port_range
from tests.tokens.test_user_grants import connect

from .conftest import ROOT, child_env, embedded, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_twenty_processes_at_the_moment_of_expiry_make_one_platform_refresh(
    live_server, token_credential
):
    credential, app = token_credential()
    grant = connect(credential)
    old = grant.access_token()
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    tokens = _herd(grant.pk, child_env())
    assert oauth.refreshes(app) == 1
    assert len(set(tokens)) == 1 and old not in tokens
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.HEALTHY and grant.access_token() == tokens[0]
    assert oauth.use_refresh(app, grant.refresh_token())[0] == "ok"  # the one held works


CONNECT = """
import requests
from urllib.parse import parse_qs, urlsplit
from apps.audit.services import Actor
from apps.tokens.grants import grant_connect
from apps.tokens.models import UserGrant
from apps.vault.models import Credential
c = Credential.objects.get(slug="demo-feishu")
r = requests.post(c.effective_base_url + "/open-apis/authen/v1/authorize", data={
    "client_id": c.public_values["app_id"], "redirect_uri": "http://127.0.0.1:9/cb",
    "state": "s", "scope": "offline_access", "user": "ou_" + "%032x" % 1,
    "decision": "allow"}, allow_redirects=False, timeout=10)
code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
g = grant_connect(credential=c, code=code, redirect_uri="http://127.0.0.1:9/cb",
                  code_verifier="", actor=Actor.system("test"))
UserGrant.objects.filter(pk=g.pk).update(expires_at=g.obtained_at)
print(g.pk, g.access_token())
"""

CHECK = """
from apps.sandbox import oauth
from apps.sandbox.models import SandboxApp
from apps.tokens.models import UserGrant
g = UserGrant.objects.get()
print(oauth.refreshes(SandboxApp.objects.get(provider="feishu")), g.state, g.access_token())
"""


def test_the_same_on_the_embedded_default(tmp_path):
    origins = free_port_range(8)
    env, manage = embedded(tmp_path, SANDBOX_ORIGIN_PORT=str(origins))
    manage("bootstrap")
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_origins"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: _listening(origins), timeout=30)
        grant_id, old = manage("shell", "-c", CONNECT).split()[-2:]
        tokens = _herd(int(grant_id), env)
        refreshes, state, held = manage("shell", "-c", CHECK).split()[-3:]
        assert refreshes == "1" and state == "healthy"
        assert set(tokens) == {held} and old != held
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=10)


def _herd(grant_id: int, env: dict[str, str]) -> list[str]:
    """20 processes ask for the user's token at the same moment; the tokens they got."""
    start_at = time.time() + 12  # every process has loaded Django by then
    command = [sys.executable, "-m", "tests.integration.refresh_grant", str(grant_id)]
    procs = [
        subprocess.Popen(
            [*command, str(start_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    tokens = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        tokens.append(out.strip())
    return tokens


def _listening(port: int) -> bool:
    try:
        requests.post(f"http://127.0.0.1:{port}/open-apis/authen/v2/oauth/token", timeout=2)
        return True
    except requests.RequestException:
        return False


def test_twenty_callers_through_two_web_servers_make_one_platform_refresh(
    live_server, token_credential, client_key, tmp_path
):
    """Two web servers (the Procfile's granian, two workers each) on one PostgreSQL and
    Redis: 20 callers split between them ask for the user's token at the moment it
    expires, then 20 report the new token rejected; each time one platform refresh."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tests.helpers import free_port

    from .conftest import procfile_web

    credential, app = token_credential(slug="fs-two-webs")
    grant = connect(credential)
    _, key = client_key(credential, user_tokens=True)
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    headers = {"Authorization": f"Bearer {key}"}
    env = {"WEB_CONCURRENCY": "2", "TOKEN_LEDGER_DIR": str(tmp_path / "ledger")}
    first, second = free_port(), free_port()
    with procfile_web(first, **env), procfile_web(second, **env):
        urls = [
            f"http://127.0.0.1:{port}/api/v1/tokens/fs-two-webs/users/{grant.user_id}"
            for port in (first, second)
        ]
        barrier = Barrier(20)

        def ask(i: int, rejected: str | None = None) -> str:
            barrier.wait(timeout=30)
            url = urls[i % 2]
            if rejected is None:
                reply = requests.get(url, headers=headers, timeout=60)
            else:
                reply = requests.post(
                    url + "/refresh", headers=headers, json={"rejected_token": rejected}, timeout=60
                )
            assert reply.status_code == 200, reply.text
            return reply.json()["access_token"]

        with ThreadPoolExecutor(20) as pool:
            at_expiry = list(pool.map(ask, range(20)))
        assert oauth.refreshes(app) == 1
        assert len(set(at_expiry)) == 1 and grant.access_token() not in at_expiry

        with ThreadPoolExecutor(20) as pool:
            after_rejection = list(pool.map(ask, range(20), [at_expiry[0]] * 20))
        assert oauth.refreshes(app) == 2
        assert len(set(after_rejection)) == 1 and at_expiry[0] not in after_rejection
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.HEALTHY
    assert grant.access_token() == after_rejection[0]
