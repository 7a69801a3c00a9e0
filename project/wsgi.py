from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
pages = get_wsgi_application()

from apps.core.handlers import token_api_handler  # noqa: E402 - after Django is set up
from apps.tokens.wsgi import TokenAPI  # noqa: E402

token_api = TokenAPI(token_api_handler())
TOKEN_API_PATHS = "/api/v1/tokens/"  # noqa: S105 - a path, not a password


def application(environ, start_response):
    """The token API (business servers, the hot path) through its own entry
    (apps/tokens/wsgi.py); everything else through the pages' full middleware stack."""
    if environ.get("PATH_INFO", "").startswith(TOKEN_API_PATHS):
        return token_api(environ, start_response)
    return pages(environ, start_response)
