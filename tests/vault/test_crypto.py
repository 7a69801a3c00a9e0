from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core import crypto

K1, K2 = crypto.new_key("k1"), crypto.new_key("k2")


@pytest.fixture
def keys(settings):
    def use(*entries):
        settings.FIELD_ENCRYPTION_KEYS = list(entries)

    return use


def test_round_trip_with_fresh_nonce_each_time(keys):
    keys(K1)
    one = crypto.encrypt("s3cret", aad="credential:a:app_secret")
    two = crypto.encrypt("s3cret", aad="credential:a:app_secret")
    assert one != two and one.startswith("zk1:k1:")
    assert crypto.decrypt(one, aad="credential:a:app_secret") == "s3cret"
    assert "s3cret" not in one


def test_a_flipped_byte_fails_loudly(keys):
    keys(K1)
    blob = crypto.encrypt("s3cret", aad="x")
    head, body = blob.rsplit(":", 1)
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(f"{head}:{flipped}", aad="x")


def test_a_ciphertext_moved_to_another_row_or_field_fails(keys):
    keys(K1)
    blob = crypto.encrypt("s3cret", aad="credential:row-a:app_secret")
    for other in ("credential:row-b:app_secret", "credential:row-a:other_field"):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(blob, aad=other)


def test_a_missing_key_is_named(keys):
    keys(K1)
    blob = crypto.encrypt("s3cret", aad="x")
    keys(K2)
    with pytest.raises(crypto.DecryptionError, match="key 'k1'"):
        crypto.decrypt(blob, aad="x")


def test_not_a_ciphertext(keys):
    keys(K1)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("plain text", aad="x")


@pytest.mark.parametrize(
    "entries", [[], ["nocolon"], ["k1:not base64!"], ["k1:c2hvcnQ="], [K1, K1]]
)
def test_bad_key_configuration_is_refused(entries):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(entries)


def test_first_key_encrypts_others_decrypt(keys):
    keys(K1)
    old = crypto.encrypt("v", aad="x")
    keys(K2, K1)
    assert crypto.decrypt(old, aad="x") == "v"
    assert crypto.needs_rotation(old)
    assert crypto.key_id_of(crypto.reencrypt(old, aad="x")) == "k2"
