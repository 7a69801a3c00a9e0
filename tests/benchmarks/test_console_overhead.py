"""What the console adds to a send: median time of `console_send` (token, rate limiter, SSRF
guard and pinned connection, auth, decoding, redaction, history row, audit event) against a
direct `requests` call to the same sandbox endpoint, interleaved in the same run. The sandbox
is served by the Procfile's granian, PostgreSQL and Redis as in production. `make bench`."""

from __future__ import annotations

import json
import statistics
import time

import pytest
import requests

from apps.console.models import ConsoleCall
from apps.console.parts import RequestParts
from apps.console.services import console_send
from apps.tokens.services import token_current
from tests.helpers import feishu_sandbox_credential, free_port
from tests.integration.conftest import procfile_web

from .conftest import save

pytestmark = pytest.mark.django_db(transaction=True)
SENDS = 300
PACE_S = 0.06  # both calls in 60 ms: under the sandbox's and Feishu's 50/s message limit
BODY = {"receive_id": "ou_1", "msg_type": "text", "content": json.dumps({"text": "bench"})}


def test_console_overhead_against_a_direct_call(settings, make_user):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.CONSOLE_INTERNAL_TARGETS = [f"127.0.0.1:{port}"]
    credential = feishu_sandbox_credential(base, "bench")
    user = make_user("bench-dev", "developer")
    url = f"{base}/sandbox/feishu/open-apis/im/v1/messages"
    direct_times, console_times = [], []
    with procfile_web(port) as (_, command):
        token = token_current(credential=credential).token

        def direct() -> None:
            response = requests.post(
                url,
                params={"receive_id_type": "open_id"},
                json=BODY,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.json()["code"] == 0

        def console() -> None:
            outcome = console_send(
                user=user,
                credential=credential,
                parts=RequestParts(
                    method="POST",
                    path="/open-apis/im/v1/messages",
                    query=(("receive_id_type", "open_id"),),
                    body=BODY,
                ),
            )
            assert outcome.call is not None and outcome.call.ok, outcome

        for _ in range(10):  # warm up both paths and every worker
            direct(), console()
            time.sleep(PACE_S)
        for _ in range(SENDS):
            started = time.perf_counter()
            for run, times in ((direct, direct_times), (console, console_times)):
                began = time.perf_counter()
                run()
                times.append((time.perf_counter() - began) * 1000)
            time.sleep(max(0.0, PACE_S - (time.perf_counter() - started)))
    added = statistics.median(console_times) - statistics.median(direct_times)
    result = {
        "server": " ".join(command),
        "sends": SENDS,
        "direct_median_ms": round(statistics.median(direct_times), 2),
        "console_median_ms": round(statistics.median(console_times), 2),
        "added_median_ms": round(added, 2),
        "history_rows": ConsoleCall.objects.count(),
    }
    save("console_overhead", result)
    print(
        f"\ndirect {result['direct_median_ms']} ms, console {result['console_median_ms']} ms"
        f" median: the console adds {result['added_median_ms']} ms"
    )
    assert added < 3, result
