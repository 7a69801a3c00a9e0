"""Fill a test database's audit log with realistic events (tests and benchmarks only: the
product never appends fabricated events), continuing the chain.

Batches are appended under the chain lock, each continuing from the head it finds, so the
chain stays valid even with live writers; `verify_audit` passes afterwards."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import GENESIS_HASH, _chain_head, compute_hash, fingerprint

PROVIDERS = [
    "feishu",
    "feishu_project",
    "flashduty",
    "freelog",
    "itrigger",
    "wechat",
    "wecom",
    "dingtalk",
]
ACTIONS = [  # (action, weight, target type)
    ("token.handout", 34, "credential"),
    ("token.refresh", 25, "credential"),
    ("auth.login", 8, "user"),
    ("auth.logout", 6, "user"),
    ("auth.login_failed", 3, ""),
    ("credential.test", 5, "credential"),
    ("credential.update", 3, "credential"),
    ("credential.reveal", 1, "credential"),
    ("credential.create", 1, "credential"),
    ("credential.disable", 1, "credential"),
    ("client_key.create", 1, "client_key"),
    ("user.role_change", 1, "user"),
    ("audit.export", 1, ""),
    ("audit.verify", 1, ""),
]


def seed_audit(events: int = 10_000, *, days: int = 90, batch: int = 5_000, seed: int = 7) -> int:
    """Append `events` realistic audit events spread over the last `days`."""
    rng = random.Random(seed)
    users = [f"user{i:02d}" for i in range(1, 25)]
    keys = [(str(i), f"service-{i}") for i in range(1, 9)]
    credentials = [
        (f"{p}-{env}-{n}", p) for p in PROVIDERS for env in ("prod", "test") for n in (1, 2, 3)
    ]
    actions, weights = [a[0] for a in ACTIONS], [a[1] for a in ACTIONS]
    targets = {a[0]: a[2] for a in ACTIONS}
    start = timezone.now() - timedelta(days=days)
    step = timedelta(seconds=days * 86400 / max(events, 1))
    written = 0
    while written < events:
        size = min(batch, events - written)
        with transaction.atomic():
            head = _chain_head()
            seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
            rows = []
            for i in range(size):
                action = rng.choices(actions, weights)[0]
                slug, provider = rng.choice(credentials)
                details, secrets, outcome = {"provider": provider}, {}, "success"
                if action == "token.handout":
                    actor = ("client_key", *rng.choice(keys))
                    details.update(
                        count=rng.randint(1, 400), minute=(start + step * (written + i)).isoformat()
                    )
                elif action in ("auth.login", "auth.logout", "user.role_change"):
                    name = rng.choice(users)
                    actor, details = ("user", str(users.index(name) + 1), name), {}
                elif action == "auth.login_failed":
                    name = rng.choice(users)
                    actor, outcome = ("anonymous", "", name), "failure"
                    details = {"username": name}
                elif action == "token.refresh":
                    actor = ("system", "", "token-scheduled")
                    outcome = "success" if rng.random() > 0.04 else "failure"
                    details.update(reason="scheduled", trace_id=uuid.uuid4().hex[:20])
                    if outcome == "success":
                        secrets = {"token": fingerprint(uuid.uuid4().hex)}
                else:
                    name = rng.choice(users[:6])
                    actor = ("user", str(users.index(name) + 1), name)
                    if action == "credential.reveal":
                        secrets = {"app_secret": fingerprint(slug)}
                target = targets[action]
                seq += 1
                event = AuditEvent(
                    seq=seq,
                    created_at=start + step * (written + i),
                    actor_type=actor[0],
                    actor_id=actor[1],
                    actor_label=actor[2],
                    action=action,
                    target_type=target,
                    target_id=slug if target == "credential" else "",
                    outcome=outcome,
                    ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    user_agent="python-requests/2.34" if actor[0] != "user" else "Mozilla/5.0",
                    request_id=uuid.uuid4().hex,
                    details=details,
                    secret_fingerprints=secrets,
                    prev_hash=prev,
                )
                event.hash = prev = compute_hash(event)
                rows.append(event)
            AuditEvent.objects.bulk_create(rows, batch_size=size)
        written += size
    return written
