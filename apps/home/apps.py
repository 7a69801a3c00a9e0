from __future__ import annotations

from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The top floor, the dashboard's home: the overview page, /healthz, the /metrics scrape,
    `bootstrap` and `runall`. It may import every app; no app imports it."""

    name = "apps.home"
    label = "home"
    verbose_name = "Home"
