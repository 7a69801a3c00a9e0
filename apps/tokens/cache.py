"""Read-through cache for the token API's hot path, in the shared cache (Redis in
production). It holds what the API needs to answer without the database, and the token
only as the same ciphertext the database holds. Writers forget entries when things change.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver

from apps.vault import crypto
from apps.vault.models import Credential
from apps.vault.signals import credential_changed

from .models import AccessToken, ClientKey

KEY_TTL = 60
TOKEN_TTL = 30
MISSING = "missing"


def shared() -> bool:
    """Whether every process sees the same cache (not the per-process memory default)."""
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


def _key_key(key_hash: str) -> str:
    return f"zk:ck:{key_hash}"


def _token_key(slug: str) -> str:
    return f"zk:tok:{slug}"


def client_key_entry(key_hash: str, entry=None) -> dict | None:
    if entry is None:
        key = ClientKey.objects.filter(key_hash=key_hash).first()
        entry = MISSING if key is None else {
            "id": key.pk, "name": key.name, "revoked": key.revoked_at is not None,
            "expires_at": key.expires_at.timestamp() if key.expires_at else None,
            "scope": list(key.credentials.values_list("pk", flat=True))}
        cache.set(_key_key(key_hash), entry, KEY_TTL)
    return None if entry == MISSING else entry


def token_entry(slug: str, entry=None) -> dict | None:
    if entry is None:
        credential = Credential.objects.alive().filter(slug=slug).first()
        if credential is None:
            entry = MISSING
        else:
            token = AccessToken.objects.filter(credential=credential).first()
            usable = token is not None and token.value_blob and token.expires_at
            entry = {"credential_id": credential.pk, "uid": str(credential.uid),
                     "provider": credential.provider, "enabled": credential.enabled,
                     "uses_token": credential.platform.uses_token_for(credential.public_values),
                     "token_type": (token.token_type if token else "") or
                     (credential.platform.token_type or ""),
                     "blob": token.value_blob if usable else "",
                     "expires_at": token.expires_at.timestamp() if usable else 0.0,
                     "version": token.version if token else 0}
        cache.set(_token_key(slug), entry, TOKEN_TTL)
    return None if entry == MISSING else entry


def usable_token(slug: str, entry: dict, margin: float) -> str | None:
    """The entry's token, decrypted, when it stays valid for `margin` more seconds."""
    if not entry["blob"] or entry["expires_at"] <= time.time() + margin:
        return None
    try:
        return crypto.decrypt(entry["blob"], aad=AccessToken.aad_for(entry["uid"], "current"))
    except crypto.DecryptionError:  # a stale entry (keys rotated): ask the database
        forget_token(slug)
        return None


def cached_token(slug: str, margin: float) -> str | None:
    """The current token from the shared cache (one round trip when it is there)."""
    if not shared():
        return None
    entry = token_entry(slug, cache.get(_token_key(slug)))
    return usable_token(slug, entry, margin) if entry else None


def lookup(key_hash: str, slug: str) -> tuple[dict | None, dict | None]:
    """Both entries with one round trip when they are cached."""
    keys = [_key_key(key_hash), _token_key(slug)]
    if pipelines():
        raw = redis_client().mget([cache.make_and_validate_key(k) for k in keys])
        loads = cache._cache._serializer.loads
        found = {k: loads(v) for k, v in zip(keys, raw, strict=True) if v is not None}
    else:
        found = cache.get_many(keys)
    return (client_key_entry(key_hash, found.get(keys[0])),
            token_entry(slug, found.get(keys[1])))


def forget_client_key(key_hash: str) -> None:
    cache.delete(_key_key(key_hash))


def forget_token(slug: str) -> None:
    cache.delete(_token_key(slug))


def expires(entry: dict) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(entry["expires_at"], tz=UTC)


@receiver(credential_changed)
def _credential_changed(sender, slug: str, **kwargs) -> None:
    forget_token(slug)


def count_request(*, client_key_id: int, credential_id: int,
                  handout_key: str) -> tuple[int, bool]:
    """One round trip for the per-request counters: the key's requests this minute (for the
    rate limit), the hand-out count, and whether "last used" is due its once-a-minute write."""
    now = time.time()
    window = int(now // 60)
    rate_key = cache.make_and_validate_key(f"zk:api:rl:{client_key_id}:{window}")
    handout = cache.make_and_validate_key(handout_key)
    with redis_client().pipeline(transaction=False) as pipe:
        pipe.incr(rate_key)
        pipe.expire(rate_key, 61)
        pipe.incr(handout)
        pipe.expire(handout, 7200)
        pipe.set(cache.make_and_validate_key(f"zk:ck:used:{client_key_id}"), 1, nx=True, ex=60)
        replies = pipe.execute()
    return int(replies[0]), bool(replies[4])


def redis_client():
    """The cache's Redis client (primary), made once per cache backend: Django builds a new
    client object per call, which costs more than the round trip on the hot path."""
    backend = cache._cache
    client = getattr(backend, "_zk_client", None)
    if client is None:
        client = backend._zk_client = backend.get_client(None, write=True)
    return client


def pipelines() -> bool:
    """Whether the cache is Django's Redis backend (the counters can share a round trip)."""
    return type(cache._cache).__name__ == "RedisCacheClient" if hasattr(cache, "_cache") \
        else False
