"""Leak canaries for signing in: two people sign in with platforms (Feishu's code and PKCE,
WeCom's code read with the app's token), one replays a callback, one sets up an authenticator
and signs in with a code and then a recovery code; then the database, the logs, the cache, the
broker and every page fetched are searched for the OAuth codes, the TOTP secret (in base32 and
hex) and the recovery codes, in every encoding. The authenticator's key lives only in
django-otp's own table (it must, to check codes) and is shown once, on the page that sets it
up; the recovery codes are shown once, on the page that makes them, and kept nowhere but as
keyed digests: those two pages are not searched, the whole database is searched for the
codes."""

from __future__ import annotations

import base64
import logging
import os
import re

import pytest
from django.conf import settings
from django.db import connection
from django_otp.oath import totp

from apps.accounts.models import Authenticator
from apps.signin.models import PlatformSignIn
from tests.conftest import CsrfClient
from tests.test_leak_canaries import _redis_dump, forms
from tests.test_leak_canaries_grants import _consent

pytestmark = pytest.mark.django_db(transaction=True)


def _rows() -> str:
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - introspected names
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def _sign_in_with(client: CsrfClient, platform: str, user: str) -> tuple[str, str]:
    """The platform's button, then its consent page: the callback path+query and its code."""
    return _consent(client.post(f"/accounts/platforms/{platform}/login/")["Location"], user)


def test_no_oauth_code_totp_secret_or_recovery_code_leaks_anywhere(
    token_credential, client_as, users, caplog
):
    feishu, _ = token_credential("feishu", slug="canary-feishu")
    wecom, _ = token_credential("wecom", slug="canary-wecom")
    PlatformSignIn.objects.create(provider="feishu", credential=feishu)
    PlatformSignIn.objects.create(provider="wecom", credential=wecom)
    pages: list[str] = []

    def keep(response) -> None:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages.append(content.decode("utf-8", "replace"))

    with caplog.at_level(logging.DEBUG):
        first = CsrfClient()
        callback, feishu_code = _sign_in_with(first, "feishu", "ou_" + f"{1:032x}")
        keep(first.get(callback, follow=True))
        keep(CsrfClient().get(callback))  # replayed elsewhere: refused
        second = CsrfClient()
        callback, wecom_code = _sign_in_with(second, "wecom", "member03")
        keep(second.get(callback, follow=True))

        developer = client_as("developer")
        developer.post("/accounts/second-factor/", {"action": "start"})  # (shows the key)
        device = Authenticator.objects.get(confirmed=False)
        code = f"{totp(device.bin_key):06d}"
        made = developer.post("/accounts/second-factor/", {"action": "confirm", "code": code})
        recovery = re.search(r'id="recovery-codes"[^>]*>(.*?)</pre>', made.content.decode(), re.S)
        recovery_codes = recovery.group(1).split()
        again = CsrfClient()
        again.post("/accounts/login/", {"username": "dev-dan", "password": "correct horse battery"})
        keep(again.post("/accounts/second-factor/verify/", {"code": "000000"}))
        keep(
            again.post("/accounts/second-factor/verify/", {"code": recovery_codes[0]}, follow=True)
        )
        keep(developer.get("/accounts/second-factor/"))
        admin = client_as("admin")
        for url in ("/accounts/users/", "/audit/", "/audit/export.jsonl", "/accounts/platforms/"):
            keep(admin.get(url))

    device = Authenticator.objects.get(pk=device.pk)
    key = device.bin_key.hex()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    everywhere = {
        "logs": caplog.text,
        "cache": _redis_dump(os.environ["CACHE_URL"]).decode("latin-1"),
        "broker": _redis_dump(settings.CELERY_BROKER_URL).decode("latin-1"),
    } | {f"page {n}": page for n, page in enumerate(pages)}
    checks = [
        ("Feishu code", feishu_code, everywhere | {"database": _rows()}),
        ("WeCom code", wecom_code, everywhere | {"database": _rows()}),
        ("TOTP secret", secret, everywhere | {"database": _rows()}),  # sealed: nowhere
        ("TOTP key", key, everywhere | {"database": _rows()}),
    ] + [
        (f"recovery code {i}", c, everywhere | {"database": _rows()})
        for i, c in enumerate(recovery_codes)
    ]
    for name, value, places in checks:
        for form in forms(value):
            leaks = [place for place, text in places.items() if form in text]
            assert leaks == [], f"the {name} ({form[:12]}…) is in {leaks}"
