from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.roles import ensure_roles
from apps.accounts.services import first_admin_file_write, user_create
from apps.alerts.services import channel_ensure_demo
from apps.providers.registry import get_provider
from apps.sandbox.origins import origin_url
from apps.sandbox.services import DEMO_BOTS, sandbox_bot_register, sandbox_demo_apps
from apps.vault.services import credential_ensure_demo, ensure_key_canary


class Command(BaseCommand):
    help = (
        "Idempotent first-run set-up: the roles, an admin when none exists "
        "(DJANGO_SUPERUSER_USERNAME/PASSWORD, or a printed one-time password), and with "
        "the sandbox enabled its demo apps."
    )

    def handle(self, *args, **options) -> None:
        ensure_key_canary()
        if settings.SANDBOX_ENABLED:
            apps = sandbox_demo_apps()
            created = [
                provider
                for provider, (app, secret) in sorted(apps.items())
                if credential_ensure_demo(
                    provider=provider,
                    app_id=app.app_id,
                    secret=secret,
                    base_url=origin_url(provider),
                )
            ]
            # A demo alert channel to the emulated Feishu bot, at the path its adapter knows.
            key = DEMO_BOTS["feishu"]
            _, bot_secret = sandbox_bot_register(platform="feishu", key=key)
            hook = origin_url("feishu") + get_provider("feishu").alert_path + key
            if channel_ensure_demo(url=hook, secret=bot_secret):
                self.stdout.write("bootstrap: demo alert channel created (emulated Feishu bot)")
            self.stdout.write(
                f"bootstrap: sandbox platforms ready; demo credentials created: "
                f"{', '.join(f'demo-{p}' for p in created) or 'none (all exist)'}"
            )
        with transaction.atomic():
            ensure_roles()
            if User.objects.filter(groups__name=Role.ADMIN).exists():
                self.stdout.write("bootstrap: an admin exists; nothing to create")
                return
            username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
            password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None
            user, one_time = user_create(
                username=username, email="", role=Role.ADMIN, by=None, password=password
            )
            # The admin role is all Zhongkong needs: no Django superuser or staff flag.
        if password:
            self.stdout.write(f"bootstrap: created admin '{username}' with the given password")
        else:
            path = first_admin_file_write(username, one_time)
            self.stdout.write(
                self.style.WARNING(
                    f"bootstrap: created admin '{username}' with one-time password: {one_time}\n"
                    f"           (also in {path}, readable by its owner only, until you choose\n"
                    "           your own password at first sign-in)"
                )
            )
