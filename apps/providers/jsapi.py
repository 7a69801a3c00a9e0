"""JS-SDK tickets and the page signature made with them (WeChat, WeCom, Feishu, DingTalk).

Each platform signs a page's configuration the same way: SHA-1 over
`jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, the values raw (no URL encoding), the URL
without its `#…` (WeChat's JS-SDK docs and WeCom's "JS-SDK 签名算法", document/path/96909,
each with a worked example; Feishu's 网页组件鉴权 docs; DingTalk's own
`DingTalkJsApiSingnature` helper, the class its Java demo ships, also SHA-1). What differs is
the timestamp's unit (Feishu: milliseconds), the ticket endpoint and its reply's field names,
and the name the page gives the app's id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

__all__ = ["JsapiKind", "JsapiSpec", "TicketGrant", "page_signature", "sign"]


@dataclass(frozen=True)
class JsapiKind:
    """One kind of ticket: `kind` as the token API names it, the endpoint that issues it."""

    kind: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    hourly_cap: int | None = None  # fetches an hour the platform allows (None: unstated)


@dataclass(frozen=True)
class JsapiSpec:
    kinds: tuple[JsapiKind, ...]
    app_id_field: str  # the credential's public value the page names itself by
    timestamp_ms: bool = False
    docs_url: str = ""

    def kind(self, name: str) -> JsapiKind | None:
        return next((k for k in self.kinds if k.kind == name), None)


@dataclass
class TicketGrant:
    ticket: str
    expires_in: int


def sign(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The platforms' JS-SDK signature of a page (the URL's fragment is not signed)."""
    page = url.split("#", 1)[0]
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - the platforms' algorithm


def page_signature(
    spec: JsapiSpec, app_id: str, ticket: str, url: str, now: float, nonce: str | None = None
) -> dict:
    """What a page passes to the platform's `config` call: its app id, the timestamp (in the
    platform's unit), the nonce and the signature; never the ticket."""
    timestamp = int(now * 1000) if spec.timestamp_ms else int(now)
    nonce = nonce or secrets.token_urlsafe(12)
    return {
        "appId": app_id,
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": sign(ticket, nonce, timestamp, url),
        "url": url.split("#", 1)[0],
    }
