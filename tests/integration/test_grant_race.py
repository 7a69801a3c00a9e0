"""A user's single-use refresh token under a herd: 20 processes ask for the user's token at
the moment it expires; the platform sees one refresh, the grant survives, all get the new
token."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.utils import timezone

from apps.sandbox import oauth
from apps.tokens.models import UserGrant
from tests.tokens.test_user_grants import connect

from .conftest import ROOT, child_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_twenty_processes_at_the_moment_of_expiry_make_one_platform_refresh(
    live_server, token_credential
):
    credential, app = token_credential()
    grant = connect(credential)
    old = grant.access_token()
    UserGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    start_at = time.time() + 12  # every process has loaded Django by then
    command = [sys.executable, "-m", "tests.integration.refresh_grant", str(grant.pk)]
    procs = [
        subprocess.Popen(
            [*command, str(start_at)],
            cwd=ROOT,
            env=child_env(),
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
    assert oauth.refreshes(app) == 1
    assert len(set(tokens)) == 1 and old not in tokens
    grant.refresh_from_db()
    assert grant.state == UserGrant.State.HEALTHY and grant.access_token() == tokens[0]
    assert oauth.use_refresh(app, grant.refresh_token())[0] == "ok"  # the one held works
