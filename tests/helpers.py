"""Small helpers several test modules share."""

from __future__ import annotations

import socket

from django.db import connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def all_rows() -> str:
    """Every row of every table, as text: what a search for a leaked value looks through."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def feishu_sandbox_credential(base: str, slug: str):
    """A Feishu credential (slug `slug`) on the sandbox of the server at `base`."""
    from apps.providers.registry import get_provider
    from apps.sandbox.services import sandbox_app_register
    from apps.vault.services import credential_create

    app, secret = sandbox_app_register(provider="feishu", app_id=f"{slug}-app")
    values = get_provider("feishu").sample_values(app.app_id, secret)
    return credential_create(by=None, provider="feishu", name=slug, slug=slug,
                             environment="test", base_url=f"{base}/sandbox/feishu",
                             public={"app_id": values["app_id"]},
                             secrets={"app_secret": values["app_secret"]})
