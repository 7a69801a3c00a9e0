"""Writes a local `.env` for the embedded default with freshly generated secrets.

Run as `python -m apps.core.envfile PATH` (no Django import: settings need these values).
An existing file is never touched.
"""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

TEMPLATE = """\
# Written by `make run` for this machine only. Never commit it (it is in .gitignore).
# Production mode (no debug pages), served over plain http on this machine's loopback;
# behind a TLS proxy turn the SECURE_* and *_COOKIE_SECURE settings back on (their defaults).
# Development mode is the opt-in: `make dev`.
DEBUG=false
SECURE_SSL_REDIRECT=false
SESSION_COOKIE_SECURE=false
CSRF_COOKIE_SECURE=false
SECURE_HSTS_SECONDS=0
SECRET_KEY={secret_key}
AUDIT_HMAC_KEY={audit_key}
FIELD_ENCRYPTION_KEYS={field_key}
ALLOWED_HOSTS=localhost,127.0.0.1
SANDBOX_ENABLED=true
# Embedded default: SQLite under var/ and a file-system Celery broker; no server needed.
# DATABASE_URL=postgres://user@127.0.0.1:5432/zhongkong
# CELERY_BROKER_URL=redis://127.0.0.1:6379/0
# CACHE_URL=redis://127.0.0.1:6379/1
"""


def render() -> str:
    return TEMPLATE.format(
        secret_key=secrets.token_urlsafe(50),
        audit_key=secrets.token_urlsafe(48),
        field_key="k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )


def main(path: str) -> int:
    target = Path(path)
    if target.exists():
        print(f"{target} exists; left as it is")
        return 0
    target.write_text(render())
    target.chmod(0o600)
    print(f"wrote {target} with new secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".env"))
