"""Filters for the console's pages."""

from __future__ import annotations

from django import template

from apps.providers.base import web_url as _web_url

register = template.Library()


@register.filter
def web_url(value: object) -> str:
    """The http(s) URL in a value from a platform's reply, or '' (never `javascript:`)."""
    return _web_url(value)


@register.filter
def emulated_on(api, platform: str) -> bool | None:
    """Whether this server's sandbox emulates the API (None: no sandbox here)."""
    from apps.console.catalogue import sandbox_emulates

    return sandbox_emulates(platform, api)
