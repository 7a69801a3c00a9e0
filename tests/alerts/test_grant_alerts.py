"""Alerts about users' grants, through the existing channels: one alert per credential when
users must authorise again (a final refusal from the platform), one when grants end within
ALERT_GRANT_DAYS; each resolved when it no longer holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import Alert, Rule
from apps.sandbox import oauth
from apps.sandbox.services import sandbox_bot_messages
from apps.tokens.grants import grant_refresh, grant_revoke
from apps.tokens.models import UserGrant
from tests.tokens.test_user_grants import ADMIN, connect

pytestmark = pytest.mark.django_db(transaction=True)


def test_users_who_must_authorise_again_alert_once_and_resolve(bot_channel, token_credential):
    credential, app = token_credential()
    _, key = bot_channel("webhook")
    first = connect(credential, open_id="ou_" + f"{1:032x}")
    connect(credential, open_id="ou_" + f"{2:032x}")
    assert services.alerts_evaluate() == []

    oauth.revoke_user(app, first.user_id)  # the platform now answers 20064 for this user
    assert grant_refresh(grant_id=first.pk, force=True).state == UserGrant.State.NEEDS_REAUTH
    ids = services.alerts_evaluate()
    assert len(ids) == 1
    services.delivery_send(delivery_id=ids[0])
    alert = Alert.objects.get()
    assert alert.rule == Rule.GRANT_REAUTH and alert.key == f"grant_reauth:{credential.slug}"
    assert "测试用户1" in alert.text_zh and "1 user(s)" in alert.text_en
    assert "测试用户2" not in alert.text_zh
    assert services.alerts_evaluate() == []  # held: not repeated
    [message] = sandbox_bot_messages("webhook", key)
    assert message["status"] == "firing" and f"/tokens/{credential.slug}/users/" in str(message)

    grant_revoke(grant=UserGrant.objects.get(pk=first.pk), actor=ADMIN)
    assert len(services.alerts_evaluate()) == 1  # resolved
    assert Alert.objects.get().resolved_at is not None


def test_grants_ending_soon_warn_days_before(bot_channel, token_credential, settings):
    settings.ALERT_GRANT_DAYS = 3
    credential, _ = token_credential()
    bot_channel("webhook")
    grant = connect(credential)
    # The emulated platform gives refresh tokens 7 days: no warning yet.
    assert services.alerts_evaluate() == []
    UserGrant.objects.filter(pk=grant.pk).update(
        refresh_expires_at=timezone.now() + timedelta(days=2)
    )
    assert len(services.alerts_evaluate()) == 1
    alert = Alert.objects.get()
    assert alert.rule == Rule.GRANT_ENDING and alert.severity == "warning"
    assert "3 天内" in alert.text_zh
    # A refresh rotates the refresh token and brings a new 7-day expiry: resolved.
    grant_refresh(grant_id=grant.pk, force=True)
    assert len(services.alerts_evaluate()) == 1
    assert Alert.objects.get().resolved_at is not None


def test_a_ticket_that_keeps_failing_alerts_and_recovers(bot_channel, token_credential, settings):
    from apps.tokens.models import Ticket

    settings.ALERT_FAILURES = 3
    credential, _ = token_credential("wecom", slug="wecom-tickets")
    bot_channel("webhook")
    row = Ticket.objects.create(credential=credential, kind="jsapi", failures=2)
    assert services.alerts_evaluate() == []
    Ticket.objects.filter(pk=row.pk).update(failures=3, last_error={"code": "40001"})
    assert len(services.alerts_evaluate()) == 1
    alert = Alert.objects.get()
    assert alert.key == "refresh_failing:wecom-tickets/jsapi-ticket"
    assert alert.severity == "critical" and "40001" in alert.text_en
    Ticket.objects.filter(pk=row.pk).update(failures=0)
    assert len(services.alerts_evaluate()) == 1 and Alert.objects.get().resolved_at is not None
