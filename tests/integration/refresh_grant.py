"""Asks for a user's token at a given moment: `python -m tests.integration.refresh_grant
GRANT_ID START_AT` waits until START_AT (Unix time), calls the refresh service as a business
server's request would, and prints the token it got. Run by the race test as 20 processes."""

from __future__ import annotations

import os
import sys
import time

import django


def main(grant_id: int, start_at: float) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")  # as manage.py
    django.setup()
    from apps.tokens.grants import grant_refresh

    time.sleep(max(0.0, start_at - time.time()))
    grant = grant_refresh(grant_id=grant_id, reason="passive")
    print(grant.access_token())
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), float(sys.argv[2])))
