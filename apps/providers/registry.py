"""The one list of platforms. Everything outside apps/providers asks here."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .base import OutboundRequest, Provider
from .dingtalk import DingTalk
from .feishu import Feishu
from .feishu_project import FeishuProject
from .flashduty import Flashduty
from .freelog import Freelog
from .itrigger import ITrigger
from .webhook import Webhook
from .wechat import WeChat
from .wecom import WeCom

PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Feishu(),
        FeishuProject(),
        Flashduty(),
        Freelog(),
        ITrigger(),
        WeChat(),
        WeCom(),
        DingTalk(),
    )
}


def get_provider(key: str) -> Provider:
    try:
        return PROVIDERS[key]
    except KeyError:
        raise LookupError(f"unknown platform {key!r}") from None


def provider_choices() -> list[tuple[str, str]]:
    return [(p.key, f"{p.name_zh} · {p.name_en}") for p in PROVIDERS.values()]


@dataclass(frozen=True)
class WireNames:
    """What the adapters put on the wire, lower-cased: headers and query parameters that
    carry a token or a secret (auth Zhongkong injects), names a secret travels under in a
    token request, and the platforms' idempotency headers."""

    auth_headers: frozenset[str]
    auth_query: frozenset[str]
    secret_keys: frozenset[str]
    idempotency_headers: frozenset[str]


SENTINEL = "zk-wire-sentinel"


def _carries(value, sentinels: set[str]) -> bool:
    return isinstance(value, str) and any(s in value for s in sentinels)


def _keys_holding(value, sentinels: set[str]) -> set[str]:
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if _carries(item, sentinels):
                found.add(str(key).lower())
            found |= _keys_holding(item, sentinels)
    elif isinstance(value, list):
        for item in value:
            found |= _keys_holding(item, sentinels)
    return found


@functools.cache
def wire_names() -> WireNames:
    """Found by running every adapter on sentinel values, so that the console's curl import
    and export know each platform's auth and secret names without a list of their own."""
    headers, query, secrets, idempotency = set(), set(), set(), set()
    for provider in PROVIDERS.values():
        creds = {f.name: f.default or f"{SENTINEL}-{f.name}" for f in provider.fields}
        secret = {creds[name] for name in provider.secret_fields}
        token = f"{SENTINEL}-token"
        authed = provider.apply_auth(
            OutboundRequest("GET", "https://platform.invalid/x"), creds, token
        )
        headers |= {k.lower() for k, v in authed.headers.items() if _carries(v, secret | {token})}
        query |= {k.lower() for k, v in authed.params if _carries(v, secret | {token})}
        if provider.uses_tokens:
            fetch = provider.token_request("https://platform.invalid", creds)
            if fetch is not None:
                secrets |= {k.lower() for k, v in fetch.params if _carries(v, secret)}
                secrets |= _keys_holding(fetch.json, secret)
                headers |= {k.lower() for k, v in fetch.headers.items() if _carries(v, secret)}
        secrets |= {name.lower() for name in provider.secret_fields}
        written = provider.idempotency_header("POST", "/x")  # the header of a write, if any
        if written:
            idempotency.add(written.lower())
    return WireNames(
        frozenset(headers), frozenset(query), frozenset(secrets), frozenset(idempotency)
    )


def alert_protocols() -> dict[str, object]:
    """Every kind of alert channel that posts over HTTP: the platforms' bots and event
    pushes (in their adapters) and the generic signed webhook."""
    kinds: dict[str, object] = {k: p for k, p in PROVIDERS.items() if p.has_alerts}
    kinds["webhook"] = Webhook()
    return kinds
