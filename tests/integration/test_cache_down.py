"""The token API when Redis goes away: the Procfile's granian on a Redis of its own, which
is killed; tokens keep being served (the database answers), JSON throughout."""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from apps.tokens.services import token_current
from tests.helpers import free_port

from .conftest import procfile_web

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_tokens_are_served_while_redis_is_down(
    live_server, token_credential, client_key, private_redis, tmp_path
):
    port, redis_server = private_redis
    credential, _ = token_credential(slug="fs-redis")
    _, key = client_key(credential)
    token = token_current(credential=credential).token
    web = free_port()
    env = {
        "CACHE_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1",
        "TOKEN_LEDGER_DIR": str(tmp_path / "ledger"),
        "WEB_CONCURRENCY": "2",
    }
    with procfile_web(web, **env):
        url = f"http://127.0.0.1:{web}/api/v1/tokens/fs-redis"
        headers = {"Authorization": f"Bearer {key}"}
        assert requests.get(url, headers=headers, timeout=10).json()["access_token"] == token
        redis_server.send_signal(signal.SIGKILL)
        redis_server.wait(10)
        time.sleep(0.2)
        answers = [requests.get(url, headers=headers, timeout=10) for _ in range(10)]
        assert [a.status_code for a in answers] == [200] * 10, answers[0].text
        assert all(a.json()["access_token"] == token for a in answers)
        assert all(a.headers["Cache-Control"] == "no-store" for a in answers)
        refused = requests.get(url, headers={"Authorization": "Bearer zkck_not-a-key"}, timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        refreshed = requests.post(
            f"{url}/refresh",
            headers=headers,
            timeout=30,
            data=json.dumps({"rejected_token": token}),
        )
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["version"] > answers[0].json()["version"]
