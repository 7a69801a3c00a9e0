"""The token centre with real Celery worker and beat processes, PostgreSQL and Redis."""

from __future__ import annotations

import signal
import time

import pytest
import requests
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.providers.registry import get_provider
from apps.sandbox.core import fetches
from apps.sandbox.models import SandboxFault
from apps.sandbox.services import sandbox_app_register
from apps.tokens.models import AccessToken
from apps.tokens.services import client_key_create, token_current
from apps.vault.services import credential_create

from .conftest import wait_for

pytestmark = pytest.mark.integration


def _credential(live_server, slug="feishu-short", **sandbox):
    app, secret = sandbox_app_register(provider="feishu", app_id=f"app-{slug}", **sandbox)
    values = get_provider("feishu").sample_values(app.app_id, secret)
    credential = credential_create(
        by=None,
        provider="feishu",
        name=slug,
        slug=slug,
        environment="test",
        base_url=f"{live_server.url}/sandbox/feishu",
        public={"app_id": values["app_id"]},
        secrets={"app_secret": values["app_secret"]},
    )
    return credential, app


def test_tokens_are_refreshed_before_expiry_without_any_client_request(live_server, celery):
    celery.env = {"TOKEN_SCAN_INTERVAL": "1"}
    credential, app = _credential(live_server, token_lifetime=30, reissue_window=30)
    _, key = client_key_create(name="biz", credentials=[credential])
    first = token_current(credential=credential)
    celery.start("worker")
    celery.start("beat")
    # Watch for 40 s as a business server would: no response may carry an expired token.
    deadline, versions = time.monotonic() + 40, set()
    while time.monotonic() < deadline:
        response = requests.get(
            f"{live_server.url}/api/v1/tokens/{credential.slug}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["expires_in"] > 0
        assert timezone.datetime.fromisoformat(body["expires_at"]) > timezone.now()
        versions.add(body["version"])
        time.sleep(0.5)
    assert max(versions) >= 2, celery.output()
    refreshes = AuditEvent.objects.filter(
        action="token.refresh", outcome="success", target_id=credential.slug
    ).order_by("seq")
    # Every refresh after the first came from the schedule, not from a client request.
    assert {e.details["reason"] for e in refreshes[1:]} == {"scheduled"}
    assert first.row.version == 1 and fetches("feishu", app.app_id) == refreshes.count()


def test_a_worker_killed_mid_fetch_is_replaced_and_the_refresh_completes(live_server, celery):
    celery.env = {
        "TOKEN_SCAN_INTERVAL": "1",
        "TOKEN_LEASE_SECONDS": "8",
        "TOKEN_FETCH_TIMEOUT": "20",
    }
    credential, app = _credential(live_server, slug="feishu-kill")
    SandboxFault.objects.create(
        provider="feishu", path_prefix="/open-apis/auth", kind="delay", value=6000, remaining=1
    )
    doomed = celery.start("worker")
    celery.start("beat")
    # The scan enqueues the first fetch; wait until a worker holds the lease, then kill it.
    assert wait_for(
        lambda: AccessToken.objects.filter(credential=credential).exclude(lease_owner="").exists(),
        timeout=30,
    ), celery.output()
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    celery.start("worker-2")
    row = wait_for(
        lambda: AccessToken.objects.filter(credential=credential, version__gte=1).first(),
        timeout=45,
    )
    assert row is not None, celery.output()
    time.sleep(3)  # room for a duplicate, which must not happen
    row.refresh_from_db()
    assert row.version == 1 and row.lease_owner == "" and row.lease_until is None
    assert row.expires_at > timezone.now()
    assert (
        AuditEvent.objects.filter(
            action="token.refresh", outcome="success", target_id=credential.slug
        ).count()
        == 1
    )
