from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground every app stands on; it imports no app: the request context and middleware,
    error pages, logging, the rate limiter, metric definitions, the lean WSGI handler, the env
    file, heartbeats and the access generation."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from .log import install_request_id_record_factory

        install_request_id_record_factory()
