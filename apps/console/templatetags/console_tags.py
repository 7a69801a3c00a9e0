"""Filters for the console's pages."""

from __future__ import annotations

from django import template

from apps.providers.base import web_url as _web_url

register = template.Library()


@register.filter
def web_url(value: object) -> str:
    """The http(s) URL in a value from a platform's reply, or '' (never `javascript:`)."""
    return _web_url(value)


@register.simple_tag
def sandbox_answer(api, platform: str) -> str | None:
    """How this server's sandbox answers the API (catalogue.sandbox_answer); a tag, not a
    filter, so that a missing credential resolves to "" instead of raising."""
    from apps.console.catalogue import sandbox_answer as answer

    return answer(platform, api)
