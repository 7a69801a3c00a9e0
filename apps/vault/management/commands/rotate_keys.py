from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.audit.services import Actor, record
from apps.core import crypto
from apps.core.models import SecretHolder
from apps.vault.models import KeyCanary


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the primary key (the first of "
        "FIELD_ENCRYPTION_KEYS). Resumable: rows already under it are skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--max-rows",
            type=int,
            default=None,
            help="stop after re-encrypting this many rows (staged rotation)",
        )

    def handle(self, *args, max_rows: int | None, **options) -> None:
        done = 0
        holders = [m for m in apps.get_models() if issubclass(m, SecretHolder)]
        for model in holders:  # credentials, alert channels, authenticator keys: every sealed row
            for pk in model.objects.order_by("pk").values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    row = model.objects.select_for_update().get(pk=pk)
                    stale = {f: b for f, b in row.secret_blobs.items() if crypto.needs_rotation(b)}
                    if not stale:
                        continue
                    if max_rows is not None and done >= max_rows:
                        self.stdout.write(f"stopped after {done} rows (--max-rows); run again")
                        return
                    for field, blob in stale.items():
                        row.secret_blobs[field] = crypto.reencrypt(blob, aad=row.aad(field))
                    row.save(update_fields=["secret_blobs"])
                    done += 1
        for canary in KeyCanary.objects.all():
            if crypto.needs_rotation(canary.ciphertext):
                canary.ciphertext = crypto.reencrypt(canary.ciphertext, aad="canary")
                canary.save(update_fields=["ciphertext"])
        if not KeyCanary.objects.exists():
            KeyCanary.objects.create(ciphertext=crypto.encrypt(KeyCanary.PLAINTEXT, aad="canary"))
        with transaction.atomic():
            record(
                action="vault.rotate_keys",
                actor=Actor.system("rotate_keys"),
                details={"rows": done, "primary_key": crypto.keyring().primary_id},
            )
        self.stdout.write(
            self.style.SUCCESS(f"{done} rows re-encrypted under key {crypto.keyring().primary_id}")
        )
