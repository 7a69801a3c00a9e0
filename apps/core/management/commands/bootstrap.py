from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.roles import ensure_roles
from apps.accounts.services import user_create
from apps.sandbox.services import sandbox_demo_apps


class Command(BaseCommand):
    help = ("Idempotent first-run set-up: the roles, an admin when none exists "
            "(DJANGO_SUPERUSER_USERNAME/PASSWORD, or a printed one-time password), and with "
            "the sandbox enabled its demo apps.")

    def handle(self, *args, **options) -> None:
        if settings.SANDBOX_ENABLED:
            apps = sandbox_demo_apps()
            self.stdout.write(f"bootstrap: sandbox platforms ready ({', '.join(sorted(apps))})")
        with transaction.atomic():
            ensure_roles()
            if User.objects.filter(groups__name=Role.ADMIN).exists():
                self.stdout.write("bootstrap: an admin exists; nothing to create")
                return
            username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
            password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None
            user, one_time = user_create(username=username, email="", role=Role.ADMIN, by=None,
                                         password=password)
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        if password:
            self.stdout.write(f"bootstrap: created admin '{username}' with the given password")
        else:
            self.stdout.write(self.style.WARNING(
                f"bootstrap: created admin '{username}' with one-time password: {one_time}\n"
                "           (shown once; you will choose a new one at first login)"))
