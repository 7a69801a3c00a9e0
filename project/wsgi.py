from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
pages = get_wsgi_application()

from apps.core.handlers import token_api_handler  # noqa: E402 - after Django is set up

token_api = token_api_handler()
TOKEN_API_PATHS = "/api/v1/tokens/"  # noqa: S105 - a path, not a password


def application(environ, start_response):
    """The token API (business servers, the hot path) through its own short middleware
    stack; everything else through the pages' full one."""
    if environ.get("PATH_INFO", "").startswith(TOKEN_API_PATHS):
        return token_api(environ, start_response)
    return pages(environ, start_response)
