"""Redaction by value, the forms a value takes in stored text, and the secret parts of an
address: the ground every app that stores what a platform or a receiver said stands on."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MARK = "«redacted»"
MIN_LENGTH = 6  # shorter values would redact ordinary words


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


# A path segment or query value that is a word (letters, and hyphens or dots between them)
# names a place, not a key: `open-apis`, `hook`, `send`, `standard`, `v2`.
_WORD = re.compile(r"^[A-Za-z]+(?:[-_.][A-Za-z]+)*\d?$")


def address_secrets(url: str) -> list[str]:
    """The parts of a webhook or bot address that may be its key: every path segment and
    query value that is not a plain word (a Feishu hook id, WeCom's `key=`, DingTalk's
    `access_token=`, a `/hooks/<key>/` of one's own), the user info, and the whole address,
    raw and decoded, longest first. A receiver that echoes the request line ("Cannot POST
    /hooks/…") then shows none of them."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url] if url else []
    found = {url.strip(), parts.path, f"{parts.path}?{parts.query}" if parts.query else ""}
    for segment in parts.path.split("/"):
        found.add(segment)
        found.add(unquote(segment))
    for _, value in parse_qsl(parts.query, keep_blank_values=True):
        found.add(value)
    found.add(parts.query)
    if parts.password:
        found.add(parts.password)
    secret = {f for f in found if len(f) >= MIN_LENGTH and not _WORD.match(f)}
    return sorted(secret, key=len, reverse=True)


def forms_of(values: Iterable[str]) -> list[str]:
    """Every encoded form of every value long enough to redact, longest first."""
    forms = {f for v in values if len(v) >= MIN_LENGTH for f in encoded_forms(v)}
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True)
