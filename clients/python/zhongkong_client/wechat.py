"""wechatpy's WeChat and WeCom clients with their token from Zhongkong.

    tokens = ZhongkongTokens(ZHONGKONG_URL, ZHONGKONG_KEY)
    client = ZhongkongWeChatClient(APP_ID, tokens, "wechat-prod")
    client.user.get(OPENID)
    corp = ZhongkongWeComClient(CORP_ID, tokens, "wecom-prod")

wechatpy calls `fetch_access_token()` when it holds no token (or one about to expire) and,
with `auto_retry`, after the platform answered 40001/40014/42001; both are overridden here:
the first asks Zhongkong for the current token, the second for a compare-and-refresh with
the token the platform rejected. The app secret never reaches the business server.
"""

from __future__ import annotations

import time

from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient

from . import ZhongkongTokens

PLACEHOLDER_SECRET = "held-by-zhongkong"  # noqa: S105 - not a secret: says where it is
EARLY = 60  # wechatpy fetches again this long before a token's expiry


class _FromZhongkong:
    _tokens: ZhongkongTokens
    _credential: str

    def fetch_access_token(self) -> dict:
        held = self.session.get(self.access_token_key)
        rejected = bool(held) and bool(self.expires_at) and self.expires_at - time.time() > EARLY
        if rejected:  # wechatpy's retry after the platform refused a token still in date
            self._tokens.rejected(self._credential, held)
        token = self._tokens.info(self._credential)
        expires_in = max(1, int(token.expires_in))
        self.session.set(self.access_token_key, token.value, expires_in)
        self.expires_at = int(time.time()) + expires_in
        return {"access_token": token.value, "expires_in": expires_in}


class ZhongkongWeChatClient(_FromZhongkong, WeChatClient):
    def __init__(self, appid: str, tokens: ZhongkongTokens, credential: str, **kwargs):
        self._tokens, self._credential = tokens, credential
        super().__init__(appid, PLACEHOLDER_SECRET, **kwargs)


class ZhongkongWeComClient(_FromZhongkong, WeComClient):
    def __init__(self, corp_id: str, tokens: ZhongkongTokens, credential: str, **kwargs):
        self._tokens, self._credential = tokens, credential
        super().__init__(corp_id, PLACEHOLDER_SECRET, **kwargs)
