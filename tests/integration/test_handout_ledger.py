"""No hand-out goes uncounted under the production server, whatever ends its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.tokens.services import client_key_create, handouts_audit, token_current
from tests.helpers import feishu_sandbox_credential, free_port

from .conftest import procfile_web, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _workers(master: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_counts_survive_killed_workers_and_a_graceful_stop():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    credential = feishu_sandbox_credential(base, "ledger")
    _, key = client_key_create(name="ledger", credentials=[credential])
    headers = {"Authorization": f"Bearer {key}"}
    ledgers = Path(settings.TOKEN_LEDGER_DIR)
    # The workers never flush on their own here: until adopted, the counts exist only in
    # their ledger files.
    with procfile_web(port, TOKEN_LEDGER_FLUSH_SECONDS="3600") as (master, _):
        token_current(credential=credential)
        with requests.Session() as session:
            for _ in range(120):
                assert session.get(f"{base}/api/v1/tokens/ledger", headers=headers).ok
        workers = _workers(master)
        assert workers and list(ledgers.glob("*.ledger"))
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert wait_for(
            lambda: len(set(_workers(master)) - set(workers)) == len(workers), timeout=30
        )
        time.sleep(3)  # the replacements load the application before they serve
        replacements = set(_workers(master)) - set(workers)
        with requests.Session() as session:  # the replacements serve and count
            for _ in range(30):
                assert session.get(f"{base}/api/v1/tokens/ledger", headers=headers).ok
    # procfile_web stopped the server with SIGTERM: its workers flushed as they exited and
    # removed their files.
    assert not [p for p in ledgers.glob("*.ledger") if int(p.name.split("-")[0]) in replacements]
    handouts_audit(before=timezone.now() + timedelta(minutes=3))  # adopts the killed ones
    events = AuditEvent.objects.filter(action="token.handout", target_id="ledger")
    assert sum(e.details["count"] for e in events) == 150
    # The killed workers' files were adopted and deleted. (Other tests' processes may
    # still hold files of their own in the same directory: only this server's are asked.)
    ours = set(workers) | replacements
    assert not [p for p in ledgers.glob("*.ledger") if int(p.name.split("-")[0]) in ours]
