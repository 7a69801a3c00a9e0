"""/metrics on the Procfile's server with two workers: a scrape sums what each counted."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from apps.tokens.services import client_key_create, token_current
from tests.helpers import feishu_sandbox_credential, free_port

from .conftest import procfile_web, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _handouts(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "zk_token_handouts_total"
    )


def test_a_scrape_sums_the_counts_of_every_worker(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    credential = feishu_sandbox_credential(base, "metrics")
    record, key = client_key_create(name="metrics", credentials=[credential])
    with procfile_web(
        port, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics")
    ):
        token_current(credential=credential)

        def fetch(_):
            return requests.get(
                f"{base}/api/v1/tokens/metrics",
                timeout=10,
                headers={"Authorization": f"Bearer {key}"},
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(fetch, range(200))) == {200}
        assert wait_for(lambda: _handouts(base) == 200, timeout=10), _handouts(base)
        time.sleep(0.5)
        assert _handouts(base) == 200  # each hand-out once, not once per worker
    writers = {p.name.rsplit("_", 1)[1] for p in (tmp_path / "metrics").glob("counter_*.db")}
    assert len(writers) >= 2, writers  # both workers counted (and the scrape summed them)
