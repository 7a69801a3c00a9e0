from __future__ import annotations

from django.http import HttpRequest


def role(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"user_role": user.role if user is not None and user.is_authenticated else None}
