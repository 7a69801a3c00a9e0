"""Tokens from a Zhongkong token centre, for business servers.

    tokens = ZhongkongTokens("https://zhongkong.example.com", "zkck_...")
    token = tokens.token("feishu-prod")            # cached until shortly before expiry
    token = tokens.rejected("feishu-prod", token)  # refused by the platform: compare-and-refresh

The business server holds a Zhongkong client key, never the platform's app secret. A token is
kept in memory until `margin` seconds before the expiry Zhongkong states; when the platform
rejects it, `rejected` asks Zhongkong for a compare-and-refresh with that token, so however
many processes report the same token, the platform sees one fetch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests

__all__ = ["Token", "ZhongkongError", "ZhongkongTokens"]


class ZhongkongError(Exception):
    """Zhongkong could not hand out a token: unreachable, or its answer (`code` as the token
    API names it: unauthorized, forbidden, not_found, needs_reauthorisation, upstream_failed,
    rate_limited, ...; `status` its HTTP status; `retry_after` when it says)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "unreachable",
        status: int = 0,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.code, self.status, self.retry_after = code, status, retry_after


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # unix seconds
    token_type: str = ""
    version: int = 0

    @property
    def expires_in(self) -> float:
        return self.expires_at - time.time()


class ZhongkongTokens:
    """A thread-safe, per-process cache in front of Zhongkong's token API."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 5.0,
        margin: float = 120.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/api/v1/tokens/"
        self._headers = {"Authorization": f"Bearer {key}"}
        self.timeout, self.margin = timeout, margin
        self._http = session or requests.Session()
        self._held: dict[str, Token] = {}
        self._lock = threading.Lock()

    # -- app tokens -------------------------------------------------------------------------
    def token(self, credential: str) -> str:
        return self.info(credential).value

    def info(self, credential: str) -> Token:
        return self._get(quote(credential, safe=""))

    def rejected(self, credential: str, token: str) -> str:
        """The platform rejected `token`: Zhongkong's compare-and-refresh (a new token, or the
        same when the platform holds it current and the rejection has another cause)."""
        return self._refresh(quote(credential, safe=""), token).value

    # -- users' tokens ----------------------------------------------------------------------
    def user_token(self, credential: str, user_id: str) -> str:
        return self._get(self._user_path(credential, user_id)).value

    def user_rejected(self, credential: str, user_id: str, token: str) -> str:
        return self._refresh(self._user_path(credential, user_id), token).value

    def forget(self, credential: str) -> None:
        with self._lock:
            self._held.pop(quote(credential, safe=""), None)

    # -- inside -----------------------------------------------------------------------------
    @staticmethod
    def _user_path(credential: str, user_id: str) -> str:
        return f"{quote(credential, safe='')}/users/{quote(user_id, safe='')}"

    def _fresh(self, path: str) -> Token | None:
        held = self._held.get(path)
        if held is not None and held.expires_at - time.time() > self.margin:
            return held
        return None

    def _get(self, path: str) -> Token:
        held = self._fresh(path)
        if held is not None:
            return held
        return self._keep(path, self._call("GET", path))

    def _refresh(self, path: str, token: str) -> Token:
        return self._keep(path, self._call("POST", f"{path}/refresh", {"rejected_token": token}))

    def _keep(self, path: str, body: dict) -> Token:
        token = Token(
            value=body["access_token"],
            expires_at=time.time() + float(body.get("expires_in") or 0),
            token_type=body.get("token_type", ""),
            version=int(body.get("version") or 0),
        )
        with self._lock:
            self._held[path] = token
        return token

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            reply = self._http.request(
                method, self.base_url + path, headers=self._headers, json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ZhongkongError(f"Zhongkong is unreachable: {exc}") from exc
        try:
            data = reply.json()
        except ValueError:
            data = None
        if reply.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
            return data
        error = data.get("error", {}) if isinstance(data, dict) else {}
        retry = reply.headers.get("Retry-After")
        raise ZhongkongError(
            f"Zhongkong answered {reply.status_code}: {error.get('message') or reply.text[:200]}",
            code=error.get("code") or "unexpected_answer",
            status=reply.status_code,
            retry_after=float(retry) if retry and retry.isdigit() else None,
        )
