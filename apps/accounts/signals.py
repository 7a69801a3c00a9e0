"""What accounts tell the floors above them (the audit log records it: apps/audit/receivers.py).

`user_changed` is sent inside the service's transaction with `action` (an audit action such
as "user.role_change"), `user` (the user changed), `by` (who acted, or None for a system
act), `system` (which system act when `by` is None: "bootstrap" unless said) and `details`
(a dict, or None); optionally `outcome` ("success", "failure" or "denied") and `request`.
"""

from __future__ import annotations

from django.dispatch import Signal

user_changed = Signal()
