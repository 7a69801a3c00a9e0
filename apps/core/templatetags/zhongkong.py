"""Filters the pages share (platform-aware ones live with the app that shows them:
`console_tags`, `home_tags`)."""

from __future__ import annotations

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()


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


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """This page's address with `page` set to `number` (its other filters kept)."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


# Query parameters that carry a secret for one use (an authorisation code and its state, a
# one-time link's secret): never repeated into a page.
SECRET_QUERY = frozenset({"code", "state", "t", "ticket", "token", "access_token"})


@register.simple_tag(takes_context=True)
def here(context) -> str:
    """This page's path and query for a form's `next`, without one-use secrets."""
    request = context["request"]
    query = request.GET.copy()
    for name in SECRET_QUERY & set(query):
        del query[name]
    return request.path + (f"?{query.urlencode()}" if query else "")


@register.simple_tag
def zone_label() -> str:
    """The zone the pages' times are in, as people read it: `Asia/Shanghai, UTC+08:00`."""
    return f"{timezone.get_current_timezone_name()}, UTC{_offset(timezone.localtime())}"


def _offset(local) -> str:
    offset = local.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


@register.filter
def when(value, fmt: str = "Y-m-d H:i:s"):
    """A time as the pages show it, carrying its zone: the local time in `fmt`, its UTC
    offset beside it, and the zone's name with the full time on hover (`<time>`, with the
    instant machine-readable)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}<small class="tz"> {}</small></time>',
        local.isoformat(),
        zoned(value),
        dateformat.format(local, fmt),
        _offset(local),
    )


@register.filter
def zoned(value) -> str:
    """The full local time with its zone, as text: `2026-12-05 04:40:59 UTC+08:00
    (Asia/Shanghai)`."""
    if not value:
        return ""
    local = timezone.localtime(value)
    name = timezone.get_current_timezone_name()
    return f"{dateformat.format(local, 'Y-m-d H:i:s')} UTC{_offset(local)} ({name})"
