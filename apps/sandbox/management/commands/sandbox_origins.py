from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.sandbox.origins import PLATFORMS, origin_url, start


class Command(BaseCommand):
    help = "Serve each emulated platform at an origin of its own (a port per platform)."

    def handle(self, *args, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("SANDBOX_ENABLED is off: there is no sandbox to serve.")
        servers = start(settings.SANDBOX_ORIGIN_HOST, settings.SANDBOX_ORIGIN_PORT)
        for provider in PLATFORMS:
            state = origin_url(provider) if provider in servers else "not served (port taken)"
            self.stdout.write(f"sandbox {provider:15} {state}")
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
        for server in servers.values():
            server.stop()
