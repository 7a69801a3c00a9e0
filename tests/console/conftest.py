from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from apps.providers.registry import get_provider
from apps.sandbox.services import sandbox_app_register
from apps.vault.services import credential_create

# A console send the Feishu emulator answers: list two users.
LIST_USERS = {
    "credential": "fs",
    "method": "GET",
    "path": "/open-apis/contact/v3/users",
    "query": "page_size=2",
    "headers": "",
    "body": "",
}


@pytest.fixture
def sandbox_credential(live_server, settings, users):
    """A credential for a sandbox app of `provider`, usable by the developer (public values
    given as keywords override the demo ones)."""
    parts = urlsplit(live_server.url)
    settings.CONSOLE_INTERNAL_TARGETS = [f"{parts.hostname}:{parts.port}"]

    def make(provider: str, app_id: str, slug: str, **public: str):
        app, secret = sandbox_app_register(provider=provider, app_id=app_id)
        spec = get_provider(provider)
        values = {**spec.sample_values(app.app_id, secret), **public}
        secret_names = {f.name for f in spec.fields if f.secret}
        credential = credential_create(
            by=users.admin,
            provider=provider,
            name=f"{provider} sandbox",
            slug=slug,
            environment="test",
            base_url=f"{live_server.url}/sandbox/{provider}",
            public={k: v for k, v in values.items() if k not in secret_names},
            secrets={k: v for k, v in values.items() if k in secret_names},
            allowed_users=[users.developer],
        )
        return credential, secret

    return make


@pytest.fixture
def feishu(sandbox_credential):
    return sandbox_credential("feishu", "cli_console_01", "fs")
