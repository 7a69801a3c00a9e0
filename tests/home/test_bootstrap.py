from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.accounts.models import User
from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _bootstrap() -> str:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_bootstrap_creates_roles_and_one_admin_with_a_one_time_password(monkeypatch, settings):
    settings.SANDBOX_ENABLED = False
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    output = _bootstrap()
    password = re.search(r"one-time password: (\S+)", output).group(1)
    admin = User.objects.get(username="admin")
    assert admin.role == "admin" and admin.must_change_password
    assert not admin.is_superuser and not admin.is_staff  # nothing needs them
    assert admin.check_password(password)
    assert set(Group.objects.values_list("name", flat=True)) >= {"admin", "developer", "auditor"}
    assert password not in str(list(AuditEvent.objects.values()))
    # A second run changes nothing.
    assert "nothing to create" in _bootstrap()
    assert User.objects.count() == 1
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["user.create"]


def test_the_first_admins_password_waits_in_an_owner_only_file_until_changed(
    monkeypatch, settings, tmp_path
):
    """`make run`'s output scrolls away: the one-time password is also in var/, readable by
    its owner only, and gone once the admin has chosen their own."""
    import stat

    from tests.conftest import CsrfClient

    settings.SANDBOX_ENABLED = False
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    output = _bootstrap()
    password = re.search(r"one-time password: (\S+)", output).group(1)
    kept = tmp_path / "first-admin-password.txt"
    assert str(kept) in output
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "username: admin" in kept.read_text() and password in kept.read_text()
    assert "manage.py password_reset admin" in kept.read_text()
    client = CsrfClient()
    client.post("/accounts/login/", {"username": "admin", "password": password})
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "the admin's own passphrase",
            "new_password2": "the admin's own passphrase",
        },
    )
    assert changed.status_code == 302 and not kept.exists()


def test_bootstrap_registers_the_sandbox_demo_apps_once(settings):
    from apps.sandbox.models import SandboxApp
    from apps.sandbox.services import DEMO_APP_IDS

    settings.SANDBOX_ENABLED = True
    _bootstrap()
    _bootstrap()
    assert set(SandboxApp.objects.values_list("provider", "app_id")) == set(DEMO_APP_IDS.items())
    from apps.vault.models import Credential

    slugs = set(Credential.objects.values_list("slug", flat=True))
    assert slugs == {f"demo-{p}" for p in DEMO_APP_IDS}
    feishu = Credential.objects.get(slug="demo-feishu")
    origin = f"http://{settings.SANDBOX_ORIGIN_HOST}:{settings.SANDBOX_ORIGIN_PORT}"
    assert feishu.base_url == origin  # the emulator's own origin, as an SDK would use it
    assert (
        Credential.objects.get(slug="demo-dingtalk").base_url
        == f"http://{settings.SANDBOX_ORIGIN_HOST}:{settings.SANDBOX_ORIGIN_PORT + 7}"
    )
    assert feishu.adapter_values()["app_id"] == DEMO_APP_IDS["feishu"]
    from apps.alerts.models import Channel

    (channel,) = Channel.objects.all()  # one demo alert channel, however often it runs
    assert channel.secret_values()["url"].startswith(f"{origin}/open-apis/bot/v2/hook/")


def test_bootstrap_takes_the_admin_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root-ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an env supplied passphrase")
    output = _bootstrap()
    assert "an env supplied passphrase" not in output
    admin = User.objects.get(username="root-ops")
    assert admin.check_password("an env supplied passphrase") and not admin.must_change_password


def test_envfile_writes_fresh_secrets_once(tmp_path):
    target = tmp_path / ".env"
    run = [sys.executable, "-m", "apps.core.envfile", str(target)]
    subprocess.run(run, cwd=ROOT, check=True, capture_output=True)
    first = target.read_text()
    assert re.search(r"^SECRET_KEY=\S{50,}$", first, re.M)
    assert re.search(r"^AUDIT_HMAC_KEY=\S{48,}$", first, re.M)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    subprocess.run(run, cwd=ROOT, check=True, capture_output=True)
    assert target.read_text() == first
    other = tmp_path / "other.env"
    subprocess.run(
        [sys.executable, "-m", "apps.core.envfile", str(other)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert other.read_text() != first
