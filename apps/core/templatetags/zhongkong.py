"""Filters the pages share."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.providers.base import web_url as _web_url
from apps.providers.registry import PROVIDERS

register = template.Library()


@register.filter
def web_url(value: object) -> str:
    """The http(s) URL in a value from a platform's reply, or '' (never `javascript:`)."""
    return _web_url(value)


REFRESH_REASONS = {
    "scheduled": _("scheduled"),
    "passive": _("passive (a caller's token was rejected)"),
    "manual": _("manual"),
    "on_demand": _("on demand (no valid token held)"),
    "credential": _("credential refused"),
    "test": _("test connection"),
    "quota": _("daily cap"),
}
SYSTEM_ACTORS = {
    "system": _("system"),
    "cli": _("command line"),
    "bootstrap": _("set-up (bootstrap)"),
    "rotate_keys": _("key rotation"),
    "alerts": _("alerts"),
    "nightly": _("nightly verification"),
}


@register.filter
def refresh_reason(value: object) -> str:
    """A token refresh's reason, in the interface's language."""
    return str(REFRESH_REASONS.get(str(value), value or "—"))


@register.filter
def actor(event) -> str:
    """Who acted, in the interface's language: system actors by what they do."""
    label = event.actor_label or ""
    if event.actor_type != "system":
        return label or str(event.get_actor_type_display())
    if label.startswith("token-"):
        centre = _("token centre")
        return f"{centre} · {refresh_reason(label[len('token-') :])}"
    return str(SYSTEM_ACTORS.get(label, label or _("system")))


@register.filter
def platform_name(key: object) -> str:
    """A platform's name in the interface's language (the key itself if unknown)."""
    platform = PROVIDERS.get(str(key))
    if platform is None:
        return str(key or "—")
    return platform.name_en if (get_language() or "").startswith("en") else platform.name_zh
