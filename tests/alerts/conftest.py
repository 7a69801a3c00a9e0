from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import Rule
from apps.sandbox.services import sandbox_bot_register
from tests.sandbox.conftest import sandbox_app, sandbox_origin  # noqa: F401

PATHS = {
    "feishu": "/open-apis/bot/v2/hook/{key}",
    "dingtalk": "/robot/send?access_token={key}",
    "wecom": "/cgi-bin/webhook/send?key={key}",
    "flashduty": "/event/push/alert/standard?integration_key={key}",
}
SIGNED = {"feishu", "dingtalk", "webhook"}


@pytest.fixture
def bot_channel(sandbox_origin, live_server, admin_user):  # noqa: F811
    """A channel of `kind` pointed at an emulated bot (registered, with its real secret
    unless `secret` is given); returns (channel, bot key)."""

    def make(kind: str, *, key: str | None = None, secret: str | None = None, **changes):
        key = key or f"{kind}-bot-0001"
        _, real = sandbox_bot_register(platform=kind, key=key, signed=kind in SIGNED)
        if kind == "webhook":
            url = f"{live_server.url}/sandbox/webhook/{key}"
        else:
            url = sandbox_origin(kind) + PATHS[kind].format(key=key)
        channel = services.channel_save(
            channel=None,
            by=admin_user,
            name=changes.pop("name", f"{kind} channel"),
            kind=kind,
            enabled=True,
            rules=changes.pop("rules", [r.value for r in Rule]),
            url=url,
            secret=real if secret is None and kind in SIGNED else (secret or ""),
        )
        return channel, key

    return make


@pytest.fixture
def admin_user(users):
    return users.admin
