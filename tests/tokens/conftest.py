from __future__ import annotations

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.tokens.services import client_key_create
from apps.vault.services import credential_create


@pytest.fixture
def token_credential(live_server):
    """A credential on an emulated platform, plus its sandbox app."""

    def make(provider: str = "feishu", slug: str = "feishu-main", secret: str | None = None,
             **sandbox_settings):
        app, real_secret = sandbox_app_register(provider=provider, app_id=f"app-{slug}",
                                                **sandbox_settings)
        platform = get_provider(provider)
        values = platform.sample_values(app.app_id, secret or real_secret)
        credential = credential_create(
            by=None, provider=provider, name=slug, slug=slug, environment="test",
            base_url=f"{live_server.url}/sandbox/{provider}",
            public={k: v for k, v in values.items() if k not in platform.secret_fields},
            secrets={k: v for k, v in values.items() if k in platform.secret_fields})
        return credential, app

    return make


@pytest.fixture
def client_key():
    def make(*credentials, name="order-service", **kwargs):
        return client_key_create(name=name, credentials=list(credentials), **kwargs)
    return make
