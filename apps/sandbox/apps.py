from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Local emulators of every platform, written from the platforms' docs on their own.

    This app never imports apps.providers: an adapter's misreading of a protocol must be
    caught by a test, not mirrored here.
    """

    name = "apps.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox platforms"
