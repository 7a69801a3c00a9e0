from __future__ import annotations

import ipaddress
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from apps.audit.models import AuditEvent
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_and_logout_are_audited(make_user):
    make_user("sam", "developer", password="a long passphrase 1")
    client = CsrfClient()
    response = _login(client, "sam", "a long passphrase 1")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.post("/accounts/logout/").status_code == 302
    assert list(AuditEvent.objects.order_by("seq").values_list("action", "outcome")) == [
        ("auth.login", "success"),
        ("auth.logout", "success"),
    ]


def test_failed_login_does_not_say_whether_the_account_exists(make_user):
    make_user("sam", "developer", password="a long passphrase 1")
    wrong_password = _login(CsrfClient(), "sam", "nope")
    unknown_user = _login(CsrfClient(), "nobody-here", "nope")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert wrong_password.context["form"].errors == unknown_user.context["form"].errors
    assert 'class="form-errors"' in wrong_password.content.decode()
    events = AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")
    assert [e.details["username"] for e in events] == ["sam", "nobody-here"]
    assert all("nope" not in str(e.details) for e in events)


@pytest.mark.parametrize("username", ["sam", "ghost"])
def test_repeated_failures_lock_out_and_the_lockout_is_audited(make_user, settings, username):
    make_user("sam", "developer", password="a long passphrase 1")
    client = CsrfClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, username, "wrong")
    locked = _login(client, username, "a long passphrase 1")
    assert locked.status_code == 429
    assert (
        "Too many failed attempts" in locked.content.decode("utf-8", "replace")
        or "尝试" in locked.content.decode()
    )
    assert AuditEvent.objects.filter(action="auth.lockout", details__username=username).exists()


def test_one_time_password_forces_a_new_password(make_user):
    user = make_user("newbie", "developer", password="one-time-pass-123", must_change_password=True)
    client = CsrfClient()
    _login(client, "newbie", "one-time-pass-123")
    assert client.get("/")["Location"] == "/accounts/password/"
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "one-time-pass-123",
            "new_password1": "my own long passphrase",
            "new_password2": "my own long passphrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="user.password_change", actor_id=str(user.pk)).exists()


def test_behind_the_proxy_failures_count_per_client_not_per_proxy(make_user, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    make_user("sam", "developer", password="a long passphrase 1")
    for n in range(5):  # five clients, each failing once, all through the same proxy
        client = CsrfClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}")
        assert _login(client, "sam", "wrong").status_code == 200
    sixth = CsrfClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert _login(sixth, "sam", "a long passphrase 1").status_code == 302
    # ... while one client failing five times is locked out, whoever else uses the proxy.
    attacker = CsrfClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(5):
        _login(attacker, "sam", "wrong")
    assert _login(attacker, "sam", "a long passphrase 1").status_code == 429
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("seq").first()
    assert failed.ip == "203.0.113.1"  # the audit log names the same client


def test_a_direct_caller_claiming_to_be_the_proxy_is_not_believed(make_user, settings, client):
    """X-Forwarded-For from a peer that is not a configured proxy is ignored: it neither
    escapes the sign-in throttle nor forges the address the audit records, nor opens the
    metrics scrape that loopback may read."""
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    make_user("sam", "developer", password="a long passphrase 1")
    for n in range(5):  # one attacker, a new forged address each time
        forger = CsrfClient(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        _login(forger, "sam", "wrong")
    forger = CsrfClient(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert _login(forger, "sam", "a long passphrase 1").status_code == 429
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert set(failed.values_list("ip", flat=True)) == {"198.51.100.7"}
    # /metrics is open to loopback: the TCP peer, not what a header claims.
    forged = client.get("/metrics", REMOTE_ADDR="127.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 403
    through_proxy = client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert through_proxy.status_code == 200  # the proxy vouches for a loopback client
    direct = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert direct.status_code == 200


def test_forwarded_hops_are_read_from_the_right_past_every_trusted_proxy(rf, settings):
    from apps.core.middleware import client_ip

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 8.8.8.8, 10.1.1.1")
    assert client_ip(request) == "8.8.8.8"  # the client forged 1.1.1.1; 8.8.8.8 reached us
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk, 8.8.4.4")
    assert client_ip(request) == "8.8.4.4"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="8.8.4.4, junk")
    assert client_ip(request) == "10.0.0.2"
    request = rf.get("/", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="8.8.4.4")
    assert client_ip(request) == "192.0.2.9"


def test_every_page_says_which_zone_its_times_are_in(client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    page = client.get("/accounts/login/").content.decode()
    assert "本页时间均为 Asia/Shanghai, UTC+08:00" in page and "使用 UTC" in page
    settings.TIME_ZONE = "Europe/London"  # (UTC+00:00 or +01:00, by the date)
    assert "Europe/London, UTC+0" in client.get("/accounts/login/").content.decode()


def test_each_time_on_a_page_carries_its_zone(client_as, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    client = client_as("admin")
    event = AuditEvent.objects.order_by("-seq").first()
    local = event.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    page = client.get("/audit/").content.decode()
    shown = local.strftime("%Y-%m-%d %H:%M:%S")
    # the local time, its offset beside it, the full zoned time on hover, the instant in ISO
    assert f'{shown}<small class="tz"> +08:00</small></time>' in page
    assert f'title="{shown} UTC+08:00 (Asia/Shanghai)"' in page
    assert f'datetime="{local.isoformat()}"' in page
    settings.TIME_ZONE = "UTC"
    page = client.get("/audit/").content.decode()
    utc = event.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert f'{utc}<small class="tz"> +00:00</small></time>' in page
