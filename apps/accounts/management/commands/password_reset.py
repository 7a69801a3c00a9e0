from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.accounts.services import user_password_reset


class Command(BaseCommand):
    help = (
        "Give a user a new one-time password, printed once (for an admin who lost theirs): "
        "they choose their own at the next sign-in. Any lockout is lifted and every session "
        "ended; the act is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        one_time = user_password_reset(user=user, by=None)
        if not user.is_active:
            self.stderr.write(f"password_reset: '{username}' is deactivated; an admin re-activates")
        self.stdout.write(
            self.style.WARNING(
                f"password_reset: one-time password for '{username}': {one_time}\n"
                "                (shown once; a new one is chosen at the next sign-in)"
            )
        )
