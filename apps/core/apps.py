from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: request ids, health, heartbeats, the overview page, bootstrap."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from .log import install_request_id_record_factory

        install_request_id_record_factory()
