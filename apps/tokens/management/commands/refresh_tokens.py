from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.tokens.selectors import credentials_due
from apps.tokens.services import TokenUnavailable, token_refresh
from apps.vault.models import Credential


class Command(BaseCommand):
    help = "Refresh due tokens now (or, with --all / --credential, regardless of schedule)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--credential", action="append", default=[])

    def handle(self, *args, **options) -> None:
        from django.utils import timezone

        force = options["all"] or bool(options["credential"])
        if options["credential"]:
            ids = list(
                Credential.objects.alive()
                .filter(slug__in=options["credential"])
                .values_list("pk", flat=True)
            )
        elif options["all"]:
            ids = [
                c.pk
                for c in Credential.objects.alive().filter(enabled=True)
                if c.platform.uses_token_for(c.public_values)
            ]
        else:
            ids = [pk for pk, _planned in credentials_due(timezone.now())]
        for pk in ids:
            try:
                row = token_refresh(credential_id=pk, force=force, reason="manual")
                self.stdout.write(
                    f"{row.credential.slug}: version {row.version}, "
                    f"expires {row.expires_at:%Y-%m-%d %H:%M:%S}"
                )
            except TokenUnavailable as exc:
                self.stderr.write(f"credential {pk}: {exc.code}: {exc}")
