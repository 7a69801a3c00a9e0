"""The product's WSGI application plus a plain Django view with no middleware at all, the
floor the token API is measured against (`/bench/plain`)."""

from __future__ import annotations

from apps.core.handlers import LeanHandler
from project.wsgi import application as product

plain = LeanHandler(urlconf="tests.benchmarks.urls")


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/plain":
        return plain(environ, start_response)
    return product(environ, start_response)
