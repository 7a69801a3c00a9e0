"""Chinese mode is complete where Django or raw values used to show through."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from apps.audit.models import AuditEvent
from apps.core.templatetags.zhongkong import actor, refresh_reason

pytestmark = pytest.mark.django_db


def test_password_rules_speak_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        validate_password("12345")
    assert any("密码太短" in m for m in raised.value.messages), raised.value.messages


def test_refresh_reasons_and_system_actors_are_translated():
    with translation.override("zh-hans"):
        assert refresh_reason("scheduled") == "定时"
        assert refresh_reason("passive").startswith("被动")
        event = AuditEvent(actor_type="system", actor_label="token-manual")
        assert actor(event) == "令牌中心 · 手动"
        assert actor(AuditEvent(actor_type="system", actor_label="cli")) == "命令行"
    with translation.override("en"):
        assert (
            actor(AuditEvent(actor_type="system", actor_label="token-scheduled"))
            == "token centre · scheduled"
        )
    assert refresh_reason("something-new") == "something-new"


def test_the_json_parsers_complaints_are_translated(client_as, settings, users):
    from apps.vault.services import credential_create

    credential_create(
        by=users.admin,
        provider="feishu",
        name="f",
        slug="fj",
        environment="test",
        base_url="",
        public={"app_id": "cli_x"},
        secrets={"app_secret": "s-123456789"},
        allowed_users=[users.developer],
    )
    page = client_as("developer").post(
        "/console/preview/", {"credential": "fj", "method": "POST", "path": "/x", "body": '{"a" 1}'}
    )
    assert "此处应为冒号" in page.content.decode()
