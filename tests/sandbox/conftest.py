from __future__ import annotations

import pytest

from apps.sandbox.services import sandbox_app_register

# How each platform's credential fields are filled from a sandbox app id and its secret.
CREDS = {
    "feishu": lambda app_id, secret: {"app_id": app_id, "app_secret": secret},
    "feishu_project": lambda app_id, secret: {"plugin_id": app_id, "plugin_secret": secret,
                                              "user_key": "7000000000000000001"},
    "flashduty": lambda app_id, secret: {"app_key": secret},
    "freelog": lambda app_id, secret: {"auth_mode": "jwt", "login_name": app_id,
                                       "password": secret},
    "itrigger": lambda app_id, secret: {"app_id": app_id, "app_secret": secret},
    "wechat": lambda app_id, secret: {"appid": app_id, "secret": secret},
    "wecom": lambda app_id, secret: {"corpid": app_id, "corpsecret": secret},
    "dingtalk": lambda app_id, secret: {"app_key": app_id, "app_secret": secret},
}


@pytest.fixture
def sandbox_app(db):
    """Register an app with an emulated platform; returns (app, secret, creds)."""

    def register(provider: str, app_id: str | None = None, **settings):
        app, secret = sandbox_app_register(provider=provider,
                                           app_id=app_id or f"test-{provider}", **settings)
        return app, secret, CREDS[provider](app.app_id, secret)

    return register


@pytest.fixture
def sandbox_url(live_server):
    return lambda provider: f"{live_server.url}/sandbox/{provider}"
