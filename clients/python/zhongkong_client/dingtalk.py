"""alibabacloud-dingtalk with its token from Zhongkong (the SDK keeps no token: each API takes
an `XxxHeaders(x_acs_dingtalk_access_token=...)`).

    tokens = ZhongkongTokens(ZHONGKONG_URL, ZHONGKONG_KEY)
    ding = ZhongkongDingTalk(tokens, "dingtalk-prod")
    user = ding.call(lambda h: contact.get_user_with_options(union_id, h, RuntimeOptions()),
                     contact_models.GetUserHeaders)

`call` fills the headers, and when the platform rejects the token (InvalidAuthentication),
asks Zhongkong for a compare-and-refresh with it and tries once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from Tea.exceptions import TeaException

from . import ZhongkongTokens

REJECTED = frozenset({"InvalidAuthentication"})
T = TypeVar("T")


class ZhongkongDingTalk:
    def __init__(self, tokens: ZhongkongTokens, credential: str):
        self.tokens, self.credential = tokens, credential

    def headers(self, headers_class, **fields):
        return headers_class(
            x_acs_dingtalk_access_token=self.tokens.token(self.credential), **fields
        )

    def call(self, request: Callable[[object], T], headers_class, **fields) -> T:
        headers = self.headers(headers_class, **fields)
        try:
            return request(headers)
        except TeaException as exc:
            if exc.code not in REJECTED:
                raise
            fresh = self.tokens.rejected(self.credential, headers.x_acs_dingtalk_access_token)
            return request(headers_class(x_acs_dingtalk_access_token=fresh, **fields))
