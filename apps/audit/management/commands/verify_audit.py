from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit 0 when intact, non-zero naming the first bad event."

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(str(report), returncode=2)
        self.stdout.write(self.style.SUCCESS(str(report)))
