"""Read-through cache for the token API's hot path, in the shared cache (Redis in
production). It holds what the API needs to answer without the database, and the token
only as the same ciphertext the database holds. Writers forget entries when things change.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches
from django.dispatch import receiver

from apps.core import crypto, generation
from apps.core.metrics import TOKEN_HANDOUTS
from apps.core.ratelimit import on_redis, redis_client, window_key
from apps.vault.models import Credential
from apps.vault.signals import credential_changed

from .ledger import Ledger
from .models import AccessToken, ClientKey, UserGrant
from .nearcache import NearCache

logger = logging.getLogger(__name__)

KEY_TTL = 60
TOKEN_TTL = 30
MISSING = "missing"
# After the shared cache failed to answer, it is left alone this long (the database answers
# meanwhile), so a frozen or dead Redis costs one request a timeout, not every request.
CACHE_RETRY_SECONDS = 5.0
_cache_down_until = 0.0


def _cache_away() -> bool:
    return time.monotonic() < _cache_down_until


def _cache_failed() -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS


def _current(entry):
    """The entry unless it was read before the access generation last moved (a key revoked
    or a credential changed since): then None, and the database is asked again."""
    if isinstance(entry, dict) and entry.get("gen", -1) < generation.current():
        return None
    return entry


def shared() -> bool:
    """Whether every process sees the same cache (not the per-process memory default)."""
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


def _key_key(key_hash: str) -> str:
    return f"zk:ck:{key_hash}"


def _token_key(slug: str) -> str:
    return f"zk:token:{slug}"


def client_key_entry(key_hash: str, entry=None) -> dict | None:
    entry = _current(entry)
    if entry is None:
        gen = generation.read()  # before the row: a revoke committing meanwhile moves it
        key = ClientKey.objects.filter(key_hash=key_hash).first()
        entry = (
            MISSING
            if key is None
            else {
                "gen": gen,
                "id": key.pk,
                "name": key.name,
                "revoked": key.revoked_at is not None,
                "expires_at": key.expires_at.timestamp() if key.expires_at else None,
                "scope": list(key.credentials.values_list("pk", flat=True)),
                # User tokens: None when the key may not read them, else the users it may
                # read ([] for every user connected to its credentials).
                "users": key.user_id_list() if key.user_tokens else None,
            }
        )
        _remember(_key_key(key_hash), entry, KEY_TTL)
    return None if entry == MISSING else entry


def token_entry(slug: str, entry=None) -> dict | None:
    entry = _current(entry)
    if entry is None:
        gen = generation.read()  # before the rows, as for a client key
        credential = Credential.objects.alive().filter(slug=slug).first()
        if credential is None:
            entry = MISSING
        else:
            token = AccessToken.objects.filter(credential=credential).first()
            usable = token is not None and token.value_blob and token.expires_at
            entry = {
                "gen": gen,
                "credential_id": credential.pk,
                "uid": str(credential.uid),
                "provider": credential.provider,
                "enabled": credential.enabled,
                "uses_token": credential.platform.uses_token_for(credential.public_values),
                "token_type": (token.token_type if token else "")
                or (credential.platform.token_type or ""),
                "blob": token.value_blob if usable else "",
                "expires_at": token.expires_at.timestamp() if usable else 0.0,
                "lifetime": lifetime(token) if usable else 0.0,
                "expires_iso": token.expires_at.isoformat() if usable else "",
                "version": token.version if token else 0,
            }
        _remember(_token_key(slug), entry, TOKEN_TTL)
    return None if entry == MISSING else entry


def _grant_key(slug: str, user_id: str) -> str:
    # A platform's user id is any text: the key names it by digest.
    return f"zk:ug:{slug}:{hashlib.sha256(user_id.encode()).hexdigest()[:32]}"


def grant_entry(slug: str, user_id: str, entry=None) -> dict | None:
    """What the hand-out of a user's token needs (its token as the database's ciphertext,
    when to stop serving it without the database: its planned refresh)."""
    entry = _current(entry)
    if entry is None:
        gen = generation.read()
        grant = (
            UserGrant.objects.filter(
                credential__slug=slug, credential__deleted_at__isnull=True, user_id=user_id
            )
            .select_related("credential")
            .first()
        )
        usable = (
            grant is not None
            and grant.state == UserGrant.State.HEALTHY
            and grant.access_blob
            and grant.expires_at is not None
        )
        entry = (
            MISSING
            if grant is None
            else {
                "gen": gen,
                "grant_id": grant.pk,
                "credential_id": grant.credential_id,
                "user_id": grant.user_id,
                "blob": grant.access_blob if usable else "",
                "aad": grant.aad("access"),
                "expires_at": grant.expires_at.timestamp() if usable else 0.0,
                "expires_iso": grant.expires_at.isoformat() if usable else "",
                "serve_until": (grant.refresh_at or grant.expires_at).timestamp() if usable else 0,
                "version": grant.version,
            }
        )
        _remember(_grant_key(slug, user_id), entry, TOKEN_TTL)
    return None if entry == MISSING else entry


def usable_user_token(entry: dict, margin: float) -> str | None:
    """The grant entry's token while it is valid past `margin` and not yet due for its
    refresh (from then on the database path refreshes it)."""
    now = time.time()
    if not entry["blob"] or entry["expires_at"] <= now + margin or entry["serve_until"] <= now:
        return None
    try:
        return _decrypt(entry["blob"], entry["aad"])
    except crypto.DecryptionError:
        return None


def user_in_memory(key_hash: str, slug: str, user_id: str) -> tuple:
    """The key's, the credential's and the grant's entries as the near cache holds them."""
    if not on_redis() or _cache_away():
        return None, None, None
    found = _read([_key_key(key_hash), _token_key(slug), _grant_key(slug, user_id)])
    return tuple(value if isinstance(value, dict) else None for value in map(_current, found))


def lookup_grant(slug: str, user_id: str) -> dict | None:
    return grant_entry(slug, user_id, _read([_grant_key(slug, user_id)])[0])


def forget_grant(slug: str, user_id: str) -> None:
    _forget(_grant_key(slug, user_id))


def lifetime(token: AccessToken) -> float:
    """How long the token lived when the platform issued it."""
    if token.expires_at is None or token.obtained_at is None:
        return 0.0
    return (token.expires_at - token.obtained_at).total_seconds()


def min_life(margin: float, lifetime: float) -> float:
    """`margin` for a token of this lifetime: at most a quarter of it (a token issued for a
    minute is not "short-lived" for the whole minute)."""
    return min(margin, lifetime * 0.25) if lifetime > 0 else margin


def usable_token(slug: str, entry: dict, margin: float) -> str | None:
    """The entry's token, decrypted, when it stays valid for `margin` more seconds (at most
    a quarter of its lifetime)."""
    margin = min_life(margin, entry.get("lifetime", 0.0))
    if not entry["blob"] or entry["expires_at"] <= time.time() + margin:
        return None
    try:
        return _decrypt(entry["blob"], AccessToken.aad_for(entry["uid"], "current"))
    except crypto.DecryptionError:  # a stale entry (keys rotated): ask the database
        forget_token(slug)
        return None


@functools.lru_cache(maxsize=512)
def _decrypt(blob: str, aad: str) -> str:
    """Decrypted once per process and token (in process memory only, like any value the
    process handles; a new token is a new blob)."""
    return crypto.decrypt(blob, aad=aad)


def cached_token(slug: str, margin: float) -> str | None:
    """The current token from the shared cache (from process memory on Redis)."""
    if not shared():
        return None
    entry = token_entry(slug, _read([_token_key(slug)])[0])
    return usable_token(slug, entry, margin) if entry else None


def lookup(key_hash: str, slug: str) -> tuple[dict | None, dict | None]:
    """Both entries (None for what the database does not hold either)."""
    key_entry, token = _read([_key_key(key_hash), _token_key(slug)])
    return client_key_entry(key_hash, key_entry), token_entry(slug, token)


def in_memory(key_hash: str, slug: str) -> tuple[dict | None, dict | None]:
    """Both entries as the near cache holds them (Redis only): nothing from the database."""
    if not on_redis() or _cache_away():
        return None, None
    found = _read([_key_key(key_hash), _token_key(slug)])
    return tuple(value if isinstance(value, dict) else None for value in map(_current, found))


def _read(keys: list[str]) -> list:
    """Cached entries: from process memory on Redis (nearcache.py), else one cache read. A
    per-process cache (the embedded default) is not read: another process's revocation
    could not reach it, so every request asks the database and a revoked key is refused at
    once in every configuration."""
    if not shared() or _cache_away():
        return [None] * len(keys)
    try:
        if on_redis():
            make_key = caches["default"].make_key  # the keys are ours: no validation needed
            return near_cache().get_many([make_key(k) for k in keys])
        found = cache.get_many(keys)
        return [found.get(k) for k in keys]
    except Exception:  # the cache is down: the database answers (see `_remember`)
        _cache_failed()
        logger.warning("the cache is unreachable; token API entries come from the database")
        return [None] * len(keys)


def _remember(key: str, entry, ttl: int) -> None:
    """Keep an entry in the shared cache, when there is one and it answers. While it is down
    every request reads the database, so nothing stale is served."""
    if not shared() or _cache_away():
        return
    try:
        cache.set(key, entry, ttl)
    except Exception:
        _cache_failed()
        logger.warning("the cache is unreachable; entry not kept")


def _forget(key: str) -> None:
    if not _cache_away():
        try:
            cache.delete(key)
        except Exception:  # down: entries older than the access generation are not used,
            # and the rest expire within KEY_TTL / TOKEN_TTL
            _cache_failed()
            logger.warning("the cache is unreachable; entry %s not deleted", key)
    if on_redis():  # this process sees its own change at once (others: Redis's push)
        near_cache().forget(caches["default"].make_key(key))


def forget_client_key(key_hash: str) -> None:
    _forget(_key_key(key_hash))


def forget_token(slug: str) -> None:
    _forget(_token_key(slug))


@receiver(credential_changed)
def _credential_changed(sender, slug: str, **kwargs) -> None:
    forget_token(slug)


_PER_PROCESS: dict[tuple[str, str], object] = {}


def _per_process(name: str, make):
    """One object per process and cache location (Django makes a cache backend per
    thread; these hold a connection, a thread or a file and are thread-safe)."""
    place = (name, str(settings.CACHES["default"].get("LOCATION")))
    found = _PER_PROCESS.get(place)
    if found is None:
        found = _PER_PROCESS.setdefault(place, make(caches["default"]))
    return found


def near_cache() -> NearCache:
    """This process's copy of the entries, kept exact by Redis (see nearcache.py)."""

    def make(backend):
        pool = backend._cache._get_connection_pool(True)
        return NearCache(
            lambda: pool.connection_class(**{**pool.connection_kwargs, "protocol": 3}),
            loads=backend._cache._serializer.loads,
        )

    return _per_process("near", make)


def handout_key(minute: int, client_key_id: int, credential_id: int) -> str:
    return f"zk:ho:{minute}:{client_key_id}:{credential_id}"


def moved_key(minute: int) -> str:
    """Set once the audit task has moved the minute's hand-out counts into the database."""
    return f"zk:ho:moved:{minute}"


RATE_PER = 60.0  # a client key's requests are limited per minute


def rate_name(client_key_id: int) -> str:
    return f"api:{client_key_id}"


def rate_key(client_key_id: int, minute: int) -> str:
    """The per-key window the ledger flushes into: the rate limiter's own key."""
    return window_key(rate_name(client_key_id), RATE_PER, minute)


def ledger() -> Ledger:
    """This process's hand-out ledger (see ledger.py), flushing into the cache's Redis."""

    def make(backend):
        def keys(name: str, client_key_id: int, credential_id: int, minute: int):
            return (
                backend.make_key(f"zk:ledger:{name}:{client_key_id}:{credential_id}:{minute}"),
                backend.make_key(handout_key(minute, client_key_id, credential_id)),
                backend.make_key(rate_key(client_key_id, minute)),
            )

        return Ledger(
            Path(settings.TOKEN_LEDGER_DIR),
            client=redis_client,
            keys=keys,
            moved_key=lambda minute: backend.make_key(moved_key(minute)),
            on_flushed=lambda key, credential, n: TOKEN_HANDOUTS.labels(key, credential).inc(n),
            flush_interval=settings.TOKEN_LEDGER_FLUSH_SECONDS,
            resend_interval=settings.TOKEN_LEDGER_RESEND_SECONDS,
        )

    return _per_process("ledger", make)
