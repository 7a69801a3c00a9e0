"""Redaction by value: whatever field a secret or token ends up in, it is replaced."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

from django.db import connection

from apps.tokens.models import AccessToken
from apps.vault.models import Credential

MARK = "«redacted»"
MIN_LENGTH = 6  # shorter values would redact ordinary words

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


def _base64_inner(raw: bytes, alphabet: Callable[[bytes], bytes]) -> set[str]:
    """The base64 characters that encode `raw` whatever bytes precede it (three
    alignments): a secret inside `Basic base64(id:secret)` is found too."""
    inner = set()
    for offset in range(3):
        encoded = alphabet(b"\0" * offset + raw).decode()
        start = -(-8 * offset // 6)
        end = (8 * (offset + len(raw))) // 6
        inner.add(encoded[start:end])
    return inner


def encoded_forms(value: str) -> set[str]:
    """The value as it may appear in stored text: raw, JSON-escaped (with and without
    \\u escapes), URL-encoded, and base64 (standard and URL-safe, any alignment)."""
    raw = value.encode()
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        quote(value),
    }
    forms |= _base64_inner(raw, base64.b64encode) | _base64_inner(raw, base64.urlsafe_b64encode)
    return forms


def redact(text: str, values: Iterable[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, MARK)
    return text
