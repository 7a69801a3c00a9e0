"""The audit core: `record()` appends one event to the keyed hash chain; `verify_chain()`
walks it. Every app records through `record()`, inside the transaction of the act itself.

Chain: hash_n = HMAC-SHA256(AUDIT_HMAC_KEY, canonical JSON of event n, which includes
hash_{n-1}). Appends are serialised (a PostgreSQL transaction-level advisory lock; on
SQLite the IMMEDIATE transaction already holds the database write lock), so two writers
can never both extend the same head and fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.core.context import current_request_meta
from apps.core.metrics import AUDIT_EVENTS

GENESIS_HASH = "0" * 64
# Arbitrary constant naming the audit chain's advisory lock ("zk" + "audit").
_ADVISORY_LOCK_KEY = 0x7A6B_A0D1


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(AuditEvent.ActorType.USER, str(user.pk), user.get_username())

    @classmethod
    def client_key(cls, key_id: Any, name: str) -> Actor:
        return cls(AuditEvent.ActorType.CLIENT_KEY, str(key_id), name)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(AuditEvent.ActorType.SYSTEM, "", label)

    @classmethod
    def anonymous(cls, label: str = "") -> Actor:
        return cls(AuditEvent.ActorType.ANONYMOUS, "", label[:150])


def _key(purpose: bytes) -> bytes:
    # Two keys from one secret: one signs the chain, one fingerprints secret values, so a
    # fingerprint can never be replayed as a chain hash or the other way round.
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), purpose, hashlib.sha256).digest()


def fingerprint(value: str) -> str:
    """Keyed fingerprint of a secret or token: correlates events without exposing it."""
    return hmac.new(_key(b"fingerprint"), value.encode(), hashlib.sha256).hexdigest()


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def _normal_ip(ip: str | None) -> str | None:
    return str(ipaddress.ip_address(ip)) if ip else None


def compute_hash(event: AuditEvent) -> str:
    fields = {
        "seq": event.seq,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "outcome": event.outcome,
        "ip": _normal_ip(event.ip),
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": event.details,
        "secret_fingerprints": event.secret_fingerprints,
        "prev_hash": event.prev_hash,
    }
    return hmac.new(_key(b"chain"), _canonical(fields), hashlib.sha256).hexdigest()


_HEAD_SQL = (
    f"SELECT seq, hash FROM {AuditEvent._meta.db_table} "  # noqa: S608 (table name)
    "ORDER BY seq DESC LIMIT 1"
)


def _chain_head() -> tuple[int, str] | None:
    """The newest event's (seq, hash), read under the chain's lock. On PostgreSQL the
    transaction-scoped advisory lock and the read go in one round trip: the statements run
    in order, so the head is read once the lock is held."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY}); {_HEAD_SQL}")
            cursor.nextset()
        else:  # SQLite: the write transaction (BEGIN IMMEDIATE) already serialises appends
            cursor.execute(_HEAD_SQL)
        return cursor.fetchone()


def record(
    *,
    action: str,
    actor: Actor | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    target_type: str = "",
    target_id: Any = "",
    details: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    request: Any = None,
) -> AuditEvent:
    """Append one event. `secrets` maps a name to a secret value; only its fingerprint is kept.

    Call it inside the transaction of the act it records: if the act rolls back, so does
    the event. IP, user agent and request id come from `request` or, outside a view, from
    the request that is being served (middleware context), when there is one.
    """
    meta = current_request_meta(request)
    if actor is None:
        user = getattr(request, "user", None)
        actor = Actor.user(user) if user is not None and user.is_authenticated else Actor.system()
    # Inside the caller's transaction no savepoint is needed: a failure here fails the act.
    with transaction.atomic(savepoint=False):
        head = _chain_head()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            outcome=outcome,
            ip=_normal_ip(meta.ip),
            user_agent=meta.user_agent[:256],
            request_id=meta.request_id,
            details=json.loads(_canonical(details or {})),
            secret_fingerprints={name: fingerprint(v) for name, v in (secrets or {}).items() if v},
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
    family = action.split(".", 1)[0]
    transaction.on_commit(lambda: AUDIT_EVENTS.labels(family).inc())
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events"
        return f"audit chain broken at event #{self.bad_seq}: {self.reason}"


def verify_chain(*, chunk_size: int = 2000, checkpoint: bool = True) -> ChainReport:
    """Walk every event in order; report the first one whose position, link or hash is wrong,
    or a head that went back behind a checkpoint (the newest events deleted). An intact chain
    gets a new checkpoint of its head (`checkpoint=False`: only look)."""
    anchors = {}
    for anchor in AuditCheckpoint.objects.order_by("seq", "id"):
        anchors.setdefault(anchor.seq, anchor)
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.in_chain_order().iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"expected event #{expected_seq} here (an event is missing or moved)",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False, checked, event.seq, "previous hash does not match the event before it"
            )
        if not hmac.compare_digest(compute_hash(event), event.hash):
            return ChainReport(False, checked, event.seq, "content does not match its hash")
        anchor = anchors.get(event.seq)
        if anchor is not None and not hmac.compare_digest(anchor.hash, event.hash):
            when = anchor.created_at.strftime("%Y-%m-%d %H:%M")
            return ChainReport(
                False,
                checked,
                event.seq,
                f"differs from the checkpoint of {when} (the chain was rewritten from here)",
            )
        expected_seq, expected_prev, checked = event.seq + 1, event.hash, checked + 1
    head = max(anchors, default=0)
    if head >= expected_seq:
        when = anchors[head].created_at.strftime("%Y-%m-%d %H:%M")
        return ChainReport(
            False,
            checked,
            expected_seq,
            f"missing: a verification on {when} saw the chain reach #{head}; "
            "the newest events were deleted",
        )
    if checkpoint and checked:
        AuditCheckpoint.objects.create(seq=expected_seq - 1, hash=expected_prev)
    return ChainReport(True, checked)
