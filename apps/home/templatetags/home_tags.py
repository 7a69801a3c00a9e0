"""Filters for the overview page."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from apps.providers.registry import PROVIDERS

register = template.Library()


@register.filter
def platform_name(key: object) -> str:
    """A platform's name in the interface's language (the key itself if unknown)."""
    platform = PROVIDERS.get(str(key))
    if platform is None:
        return str(key or "—")
    return platform.name_en if (get_language() or "").startswith("en") else platform.name_zh
