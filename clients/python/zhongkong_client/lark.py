"""lark-oapi takes its tenant and app tokens from Zhongkong through its own cache interface.

    tokens = ZhongkongTokens(ZHONGKONG_URL, ZHONGKONG_KEY)
    cache = ZhongkongLarkCache(tokens, "feishu-prod")
    client = (lark.Client.builder().app_id(APP_ID).app_secret(PLACEHOLDER_SECRET)
              .cache(cache).build())
    reply = cache.call(lambda: client.im.v1.message.create(request))

lark-oapi insists on a non-empty app secret but never uses it while the cache answers:
`PLACEHOLDER_SECRET` says so. lark-oapi does not retry a rejected token; `cache.call` does,
once, after Zhongkong's compare-and-refresh with the token the platform refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from lark_oapi.core.cache import ICache

from . import ZhongkongError, ZhongkongTokens

PLACEHOLDER_SECRET = "held-by-zhongkong"  # noqa: S105 - not a secret: says where it is  # lark-oapi wants one; it is never sent
# The platform's "this token is not (or no longer) valid" codes, as lark-oapi's own channel
# module lists them (lark_oapi/channel/errors.py _TOKEN_INVALID_CODES).
TOKEN_INVALID = frozenset({99991663, 99991664, 99991665, 99991666, 99991668})
OURS = ("self_tenant_token:", "self_app_token:")
T = TypeVar("T")


class ZhongkongLarkCache(ICache):
    """Answers lark-oapi's tenant and app token keys from Zhongkong; any other key (an app
    ticket, say) is kept in memory as lark-oapi's own cache would.

    lark-oapi keeps one cache per process (`TokenManager.cache`, set by the last client
    built): name the credential of every app the process uses, `{app_id: credential}`, or
    one credential for all."""

    def __init__(self, tokens: ZhongkongTokens, credentials: str | dict[str, str]):
        self.tokens = tokens
        self._credentials = credentials
        self._other: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}  # credential -> the token last handed to the SDK

    def credential(self, app_id: str) -> str:
        if isinstance(self._credentials, str):
            return self._credentials
        if app_id not in self._credentials:
            raise ZhongkongError(f"no Zhongkong credential is named for app {app_id!r}")
        return self._credentials[app_id]

    def get(self, key: str) -> str:
        if key.startswith(OURS):
            credential = self.credential(key.split(":", 1)[1])
            token = self.tokens.token(credential)  # ZhongkongError when it cannot
            self._last[credential] = token
            return token
        with self._lock:
            value, expires = self._other.get(key, ("", 0.0))
        return value if expires > time.time() else ""

    def set(self, key: str, value: str, expire: int) -> None:
        if key.startswith(OURS):
            return  # tokens are Zhongkong's to hold
        with self._lock:
            self._other[key] = (value, float(expire))

    def call(self, request: Callable[[], T], app_id: str = "") -> T:
        """`request()`, and once more after a compare-and-refresh when the platform rejected
        the token it was sent with (`app_id`: the client's app, when several are named)."""
        reply = request()
        credential = self.credential(app_id)
        if getattr(reply, "code", None) in TOKEN_INVALID and self._last.get(credential):
            self.tokens.rejected(credential, self._last[credential])
            reply = request()
        return reply
