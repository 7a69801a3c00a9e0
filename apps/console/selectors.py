from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from apps.accounts.models import Role

from .models import ConsoleCall, SavedRequest

if TYPE_CHECKING:
    from apps.accounts.models import User

PAGE_SIZE = 50


def calls_for(user: User) -> QuerySet:
    """Admins see every send; developers their own."""
    calls = ConsoleCall.objects.select_related("credential", "user")
    return calls if user.role == Role.ADMIN else calls.filter(user=user)


def recent_sends(user: User) -> QuerySet:
    """The user's own latest sends, for the console's side panel."""
    return (
        ConsoleCall.objects.filter(user=user)
        .select_related("credential")
        .only(
            "id",
            "created_at",
            "method",
            "url",
            "request_spec",
            "status",
            "ok",
            "code",
            "trace_id",
            "credential__slug",
            "credential__name",
        )[:15]
    )


def history_page(
    user: User,
    *,
    credential: str = "",
    platform: str = "",
    outcome: str = "",
    code: str = "",
    trace: str = "",
    before: int | None = None,
):
    calls = calls_for(user)
    if credential:
        calls = calls.filter(credential__slug=credential)
    if platform:
        calls = calls.filter(credential__provider=platform)
    if outcome in ("ok", "failed"):
        calls = calls.filter(ok=outcome == "ok")
    if code:
        calls = calls.filter(code=code)
    if trace:
        calls = calls.filter(trace_id=trace)
    if before:
        calls = calls.filter(id__lt=before)
    page = list(calls.order_by("-id")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return page, (page[-1].id if more and page else None)


def saved_for(user: User) -> QuerySet:
    """A user's own saved requests and those shared with the team."""
    return SavedRequest.objects.filter(Q(owner=user) | Q(shared=True)).select_related(
        "owner", "credential"
    )


def saved_by_folder(user: User, *, search: str = "") -> list[tuple[str, list[SavedRequest]]]:
    saved = saved_for(user)
    if search:
        saved = saved.filter(Q(name__icontains=search) | Q(folder__icontains=search))
    folders: dict[str, list[SavedRequest]] = {}
    for item in saved.order_by("folder", "name", "id")[:500]:
        folders.setdefault(item.folder, []).append(item)
    return list(folders.items())
