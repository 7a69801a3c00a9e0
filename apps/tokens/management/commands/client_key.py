from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.tokens.services import client_key_create
from apps.vault.models import Credential


class Command(BaseCommand):
    help = "Manage client keys of the token API. `create` prints the new key once."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--credential",
            action="append",
            required=True,
            help="slug of a credential the key may fetch (repeatable)",
        )

    def handle(self, *args, action: str, name: str, credential: list[str], **options) -> None:
        credentials = list(Credential.objects.alive().filter(slug__in=credential))
        missing = set(credential) - {c.slug for c in credentials}
        if missing:
            raise CommandError(f"no such credential: {', '.join(sorted(missing))}")
        try:
            key, raw = client_key_create(name=name, credentials=credentials)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"client key '{key.name}' created; it is shown once:")
        self.stdout.write(raw)
