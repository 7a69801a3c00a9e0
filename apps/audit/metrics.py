"""The audit log's Prometheus counter (audit stands alone: its metric is its own)."""

from __future__ import annotations

from prometheus_client import Counter

AUDIT_EVENTS = Counter("zk_audit_events", "Audit events written, by action family", ["family"])
