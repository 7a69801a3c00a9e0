"""Field encryption: AES-256-GCM with a key id in every ciphertext and the value bound to
its row and field as associated data.

Format: ``zk1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. Keys come from
FIELD_ENCRYPTION_KEYS (``id:base64-32-bytes``, comma separated); the first encrypts, all
decrypt, which is how keys rotate (`manage.py rotate_keys`). A value that cannot be
decrypted raises DecryptionError: never ciphertext, an empty string or garbage.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "zk1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored secret could not be decrypted. Loud on purpose: never guess."""


@dataclass(frozen=True)
class Keyring:
    primary_id: str
    keys: dict[str, AESGCM]


def parse_keys(entries: list[str]) -> Keyring:
    keys: dict[str, AESGCM] = {}
    for entry in entries:
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not key_id or not key_id.isalnum():
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries look like 'k1:<base64>'")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {key_id} is not base64"
            ) from None
        if len(raw) != 32:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key {key_id} must be 32 bytes")
        if key_id in keys:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key id {key_id} appears twice")
        keys[key_id] = AESGCM(raw)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: the vault needs a key")
    return Keyring(primary_id=next(iter(keys)), keys=keys)


@cache
def keyring() -> Keyring:
    return parse_keys(list(settings.FIELD_ENCRYPTION_KEYS))


@receiver(setting_changed)
def _forget_keys(setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        keyring.cache_clear()


def new_key(key_id: str) -> str:
    """A fresh key entry for FIELD_ENCRYPTION_KEYS."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


def encrypt(plaintext: str, *, aad: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.primary_id].encrypt(nonce, plaintext.encode(), aad.encode())
    return f"{PREFIX}:{ring.primary_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def key_id_of(ciphertext: str) -> str:
    parts = ciphertext.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("not a Zhongkong ciphertext")
    return parts[1]


def decrypt(ciphertext: str, *, aad: str) -> str:
    key_id = key_id_of(ciphertext)
    key = keyring().keys.get(key_id)
    if key is None:
        raise DecryptionError(
            f"encrypted with key '{key_id}', which FIELD_ENCRYPTION_KEYS does not hold"
        )
    try:
        blob = base64.urlsafe_b64decode(ciphertext.split(":", 2)[2])
        return key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
        raise DecryptionError(
            f"ciphertext for {aad} failed authentication: altered, copied "
            "from another row or field, or the key is wrong"
        ) from None


def needs_rotation(ciphertext: str) -> bool:
    return key_id_of(ciphertext) != keyring().primary_id


def reencrypt(ciphertext: str, *, aad: str) -> str:
    return encrypt(decrypt(ciphertext, aad=aad), aad=aad)
