"""Acts that cannot be undone in one click ask first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def confirm_first(
    request: HttpRequest, *, title: str, question: str, cancel: str
) -> HttpResponse | None:
    """A page asking to confirm an act that cannot be undone in one click, unless the POST
    already says `confirm=yes` (its form is this page's). None: go ahead."""
    if request.POST.get("confirm") == "yes":
        return None
    carried = [
        (k, v) for k, v in request.POST.items() if k not in ("confirm", "csrfmiddlewaretoken")
    ]
    response = render(
        request,
        "_confirm.html",
        {
            "title": title,
            "question": question,
            "action": request.path,
            "cancel": cancel,
            "carried": carried,
        },
    )
    if request.htmx:  # a whole page, not a fragment
        response["HX-Retarget"], response["HX-Reswap"] = "body", "innerHTML"
    return response
