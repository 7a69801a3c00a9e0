from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.tokens.models import ClientKey
from apps.tokens.services import client_key_create, client_key_revoke
from apps.vault.models import Credential


class Command(BaseCommand):
    help = (
        "Manage client keys of the token API. `create` prints the new key once; `revoke` "
        "takes a key out of use everywhere within a second; `list` shows the keys."
    )

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
        create.add_argument(
            "--user-tokens",
            action="store_true",
            help="it may also read the tokens of users connected to those credentials",
        )
        create.add_argument(
            "--user",
            action="append",
            default=[],
            help="with --user-tokens: only this user's (platform user id; repeatable)",
        )
        revoke = sub.add_parser("revoke")
        which = revoke.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, help="the key's id (see `list`)")
        which.add_argument("--prefix", help="the key's first characters, as `list` shows them")
        which.add_argument("--key", help="the whole key (read from standard input with -)")
        sub.add_parser("list")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(
        self, *, name: str, credential: list[str], user_tokens: bool, user: list[str], **options
    ) -> None:
        credentials = list(Credential.objects.alive().filter(slug__in=credential))
        missing = set(credential) - {c.slug for c in credentials}
        if missing:
            raise CommandError(f"no such credential: {', '.join(sorted(missing))}")
        try:
            key, raw = client_key_create(
                name=name, credentials=credentials, user_tokens=user_tokens, user_ids=tuple(user)
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"client key '{key.name}' created; it is shown once:")
        self.stdout.write(raw)

    def _revoke(self, *, id: int | None, prefix: str | None, key: str | None, **options) -> None:
        if key == "-":
            key = self.stdin.readline().strip() if hasattr(self, "stdin") else input().strip()
        keys = ClientKey.objects.all()
        if id is not None:
            keys = keys.filter(pk=id)
        elif prefix:
            keys = keys.filter(key_prefix__startswith=prefix[:12])
        else:
            keys = keys.filter(key_hash=ClientKey.hash(key or ""))
        found = list(keys[:2])
        if not found:
            raise CommandError("no such client key")
        if len(found) > 1:
            raise CommandError("the prefix names more than one key: give its --id")
        if found[0].revoked_at is not None:
            self.stderr.write(f"client key '{found[0].name}' was already revoked")
            return
        client_key_revoke(key=found[0], by=None)
        self.stdout.write(f"client key '{found[0].name}' (id {found[0].pk}) revoked")

    def _list(self, **options) -> None:
        for key in ClientKey.objects.order_by("pk").prefetch_related("credentials"):
            state = "revoked" if key.revoked_at else "active"
            slugs = ",".join(sorted(c.slug for c in key.credentials.all()))
            self.stdout.write(f"{key.pk}\t{key.key_prefix}…\t{state}\t{key.name}\t{slugs}")
