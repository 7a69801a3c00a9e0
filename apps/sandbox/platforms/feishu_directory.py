"""The emulated Feishu tenant's people: the contact API lists them, the authorise page lets
one of them consent."""

from __future__ import annotations

USERS = [
    {
        "open_id": f"ou_{i:032x}",
        "user_id": f"u{i:04d}",
        "union_id": f"on_{i:032x}",
        "name": f"测试用户{i}",
        "en_name": f"Test User {i}",
        "email": f"user{i}@example.com",
        "department_ids": ["od-demo"],
        "status": {"is_activated": True},
    }
    for i in range(1, 24)
]
