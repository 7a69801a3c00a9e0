from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run web, Celery worker and beat together in the foreground; Ctrl-C stops all three."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's autoreloading development server instead of granian",
        )

    def handle(self, *args, port: str, host: str, dev: bool = False, **options) -> None:
        commands = _commands(host, str(port), dev=dev)
        call_command("collectstatic", interactive=False, verbosity=0)  # whitenoise serves them
        # Counters of processes from an earlier run would be summed into this one's forever.
        shutil.rmtree(settings.METRICS_DIR, ignore_errors=True)
        Path(settings.METRICS_DIR).mkdir(parents=True, exist_ok=True)
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        children: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            # Own process groups: a terminal's Ctrl-C reaches us once, and we stop children
            # in order instead of all of them racing to print tracebacks.
            children[name] = subprocess.Popen(command, start_new_session=True)
            self.stdout.write(f"started {name} (pid {children[name].pid})")
        self.stdout.write(f"Zhongkong is at http://{host}:{port}/  (Ctrl-C stops everything)")
        try:
            while not stopping:
                dead = [n for n, p in children.items() if p.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} exited; stopping the rest")
                    break
                time.sleep(0.5)
        finally:
            _stop_all(children.values())
            self.stdout.write("stopped")


def _commands(host: str, port: str, *, dev: bool) -> dict[str, list[str]]:
    """Each process the embedded default runs: web, worker, beat (and the sandbox's origins)."""
    python = sys.executable
    # The production server, as on a real host (the Procfile's web line, sized small).
    web = [python, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", port]
    web += ["--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--blocking-threads", "8"]
    web += ["--respawn-failed-workers", "--workers-kill-timeout", "30", "--no-ws"]
    web += ["--access-log", "project.wsgi:application"]
    celery = [python, "-m", "celery", "-A", "project"]
    commands = {
        "web": [python, "manage.py", "runserver", f"{host}:{port}"] if dev else web,
        "worker": [*celery, "worker", "-l", "info", "-P", "threads", "-c", "4"]
        + ["--without-gossip", "--without-mingle", "-n", "embedded@%h"],
        "beat": [*celery, "beat", "-l", "info"],
    }
    if settings.SANDBOX_ENABLED:  # each emulated platform at an origin of its own
        commands["sandbox"] = [python, "manage.py", "sandbox_origins"]
    return commands


def _stop_all(children) -> None:
    """SIGTERM to each child still running; a kill for any not gone within 15 s."""
    children = list(children)
    for proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
