"""Redaction by value: whatever field a secret or token ends up in, it is replaced."""

from __future__ import annotations

from collections.abc import Iterable

MARK = "«redacted»"
MIN_LENGTH = 6  # shorter values would redact ordinary words


def live_values() -> list[str]:
    """Every live secret and token of every credential (longest first)."""
    from apps.tokens.models import AccessToken
    from apps.vault.models import Credential

    values: set[str] = set()
    for credential in Credential.objects.alive():
        values.update(credential.secret_values().values())
    for token in AccessToken.objects.select_related("credential").exclude(value_blob=""):
        values.update(v for v in (token.value(), token.previous_value()) if v)
    return sorted((v for v in values if len(v) >= MIN_LENGTH), key=len, reverse=True)


def redact(text: str, values: Iterable[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, MARK)
    return text
