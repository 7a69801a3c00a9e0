from __future__ import annotations

from django.http import HttpRequest


def role(request: HttpRequest) -> dict:
    """The signed-in user's role; none while they are still signing in (the second step, or
    a second factor the policy requires), so that no navigation leads where they may not go."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "signing_in", False):
        return {"user_role": None}
    return {"user_role": user.role}
