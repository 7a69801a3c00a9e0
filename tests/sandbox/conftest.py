from __future__ import annotations

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register


@pytest.fixture
def sandbox_app(db):
    """Register an app with an emulated platform; returns (app, secret, creds)."""

    def register(provider: str, app_id: str | None = None, **settings):
        app, secret = sandbox_app_register(provider=provider,
                                           app_id=app_id or f"test-{provider}", **settings)
        return app, secret, get_provider(provider).sample_values(app.app_id, secret)

    return register


@pytest.fixture
def sandbox_url(live_server):
    return lambda provider: f"{live_server.url}/sandbox/{provider}"
