from __future__ import annotations

from django.core.checks import Tags, Warning, register

from . import cache as token_cache


@register(Tags.security, deploy=True)
def shared_cache_check(app_configs=None, **kwargs) -> list[Warning]:
    """A per-process cache is right for one process; with several web processes each keeps
    its own rate windows (revocations stay immediate: that cache is never read for keys)."""
    if token_cache.shared():
        return []
    return [
        Warning(
            "CACHE_URL is per-process memory: with several web or worker processes, "
            "the token API's per-key rate limit and the console's rate limiter count "
            "per process.",
            hint="Set CACHE_URL=redis://... in production.",
            id="tokens.W001",
        )
    ]
