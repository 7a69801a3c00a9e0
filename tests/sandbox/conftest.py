from __future__ import annotations

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register


@pytest.fixture
def sandbox_app(db):
    """Register an app with an emulated platform; returns (app, secret, creds)."""

    def register(provider: str, app_id: str | None = None, **settings):
        app, secret = sandbox_app_register(
            provider=provider, app_id=app_id or f"test-{provider}", **settings
        )
        return app, secret, get_provider(provider).sample_values(app.app_id, secret)

    return register


@pytest.fixture
def sandbox_url(live_server):
    return lambda provider: f"{live_server.url}/sandbox/{provider}"


@pytest.fixture
def sandbox_origin(transactional_db):
    """The origin of one emulated platform (its paths at the root, a port of its own), as an
    official SDK is pointed at it; served from this process against the test database."""
    from apps.sandbox.origins import start

    servers = []

    def serve(provider: str) -> str:
        server = start("127.0.0.1", 0, (provider,))[provider]
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield serve
    for server in servers:
        server.stop()
