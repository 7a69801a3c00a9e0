"""Redaction by value: whatever field a secret or token ends up in, it is replaced."""

from __future__ import annotations

from django.db import connection

from apps.core.redaction import MARK, MIN_LENGTH, encoded_forms, redact  # noqa: F401
from apps.tokens.models import AccessToken
from apps.vault.models import Credential

_known: tuple[tuple, list[str]] | None = None  # (stamp, values) of this process


def _stamp() -> tuple:
    """Changes whenever a credential's secrets or a token may have changed: any save bumps
    a credential's updated_at; a new token its row's version and obtained_at; a new row the
    count and the largest id."""
    credentials, tokens = Credential._meta.db_table, AccessToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {credentials}), "  # noqa: S608 (table names)
            f"(SELECT MAX(updated_at) FROM {credentials}), "
            f"(SELECT COUNT(*) FROM {tokens}), (SELECT MAX(id) FROM {tokens}), "
            f"(SELECT SUM(version) FROM {tokens}), (SELECT MAX(obtained_at) FROM {tokens})"
        )
        return (connection.alias, *cursor.fetchone())


def live_values() -> list[str]:
    """Every live secret and token of every credential (longest first). Decrypted once per
    change (see `_stamp`) and kept in this process only: never in a cache or the broker."""
    global _known
    stamp = _stamp()
    known = _known
    if known is not None and known[0] == stamp:
        return known[1]
    values = _decrypt_all()
    _known = (stamp, values)  # one assignment: threads see the old pair or the new one
    return values


def _decrypt_all() -> list[str]:
    values: set[str] = set()
    for credential in Credential.objects.alive():
        values.update(credential.secret_values().values())
    for token in AccessToken.objects.select_related("credential").exclude(value_blob=""):
        values.update(v for v in (token.value(), token.previous_value()) if v)
    forms = {form for v in values if len(v) >= MIN_LENGTH for form in encoded_forms(v)}
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True)


def with_values(known: list[str], *extra: str | None) -> list[str]:
    """`known` and every encoded form of `extra` values (a user's token used in one send:
    there may be thousands of users, so their tokens are not all decrypted up front)."""
    forms = {form for v in extra if v and len(v) >= MIN_LENGTH for form in encoded_forms(v)}
    if not forms:
        return known
    merged = set(known) | {f for f in forms if len(f) >= MIN_LENGTH}
    return sorted(merged, key=len, reverse=True)
