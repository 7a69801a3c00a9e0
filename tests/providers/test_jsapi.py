"""JS-SDK tickets and page signatures: the signature equals the platforms' published worked
examples and wechatpy's own `get_jsapi_signature`; each platform's ticket call and reply are
the documented ones; a reply that rejects the token is classified as such."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.client.api.jsapi import WeChatJSAPI

from apps.providers.base import Classification, ProviderError
from apps.providers.jsapi import page_signature, sign
from apps.providers.registry import get_provider

TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"


def test_the_signature_equals_wecoms_published_example():
    # developer.work.weixin.qq.com/document/path/96909 (JS-SDK 签名算法, 示例)
    assert (
        sign(TICKET, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value")
        == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    )


def test_the_signature_equals_wechats_published_example():
    # WeChat's JS-SDK docs, 附录1 签名算法
    # (as quoted in cnblogs.com/txw1958/p/weixin-jsapi-signature)
    assert (
        sign(TICKET, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com")
        == "f4d90daf4b3bca3078ab155816175ba34c443a7b"
    )


safe_text = st.text(
    alphabet=st.characters(blacklist_characters="#", blacklist_categories=("Cs",)), max_size=80
)


@given(ticket=safe_text, nonce=safe_text, timestamp=st.integers(0, 2**41), url=safe_text)
def test_the_signature_equals_wechatpys(ticket, nonce, timestamp, url):
    expected = WeChatJSAPI(client=None).get_jsapi_signature(nonce, ticket, timestamp, url)
    assert sign(ticket, nonce, timestamp, url) == expected


def test_the_fragment_is_not_signed_and_the_ticket_never_leaves():
    url = "https://app.example.com/page?x=1"
    assert sign(TICKET, "n", 1, url + "#/route") == sign(TICKET, "n", 1, url)
    feishu = page_signature(get_provider("feishu").jsapi, "cli_x", TICKET, url + "#a", 1700000000.5)
    assert feishu["timestamp"] == 1700000000500  # Feishu's page takes milliseconds
    assert feishu["url"] == url and TICKET not in json.dumps(feishu)
    wechat = page_signature(get_provider("wechat").jsapi, "wx1", TICKET, url, 1700000000.5)
    assert wechat["timestamp"] == 1700000000
    assert wechat["signature"] == sign(TICKET, wechat["nonceStr"], 1700000000, url)


TOKEN_IN_QUERY = {"access_token": "T"}
DING_HEADER = "x-acs-dingtalk-access-token"


@pytest.mark.parametrize(
    ("provider", "kind", "method", "path", "query", "header"),
    [
        ("wechat", "jsapi", "GET", "/cgi-bin/ticket/getticket", {"type": "jsapi"}, None),
        ("wechat", "wx_card", "GET", "/cgi-bin/ticket/getticket", {"type": "wx_card"}, None),
        ("wecom", "jsapi", "GET", "/cgi-bin/get_jsapi_ticket", {}, None),
        ("wecom", "agent_config", "GET", "/cgi-bin/ticket/get", {"type": "agent_config"}, None),
        ("feishu", "jsapi", "POST", "/open-apis/jssdk/ticket/get", None, "Authorization"),
        (
            "dingtalk",
            "jsapi",
            "POST",
            "/v1.0/oauth2/jsapiTickets",
            None,
            "x-acs-dingtalk-access-token",
        ),
    ],
)
def test_each_platforms_ticket_call(provider, kind, method, path, query, header):
    """The token goes where the platform reads it: the query, or the platform's header."""
    request = get_provider(provider).ticket_request("https://host.example", {}, "T", kind)
    parts = urlsplit(request.full_url())
    assert (request.method, parts.netloc, parts.path) == (method, "host.example", path)
    if header is None:
        assert dict(parse_qsl(parts.query)) == TOKEN_IN_QUERY | query
    else:
        assert parts.query == "" and request.header(header).endswith("T")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        get_provider("feishu").ticket_request("https://h", {}, "T", "wx_card")


@pytest.mark.parametrize(
    ("provider", "body", "ticket"),
    [
        # WeChat's JS-SDK docs, 附录1 (成功返回如下JSON)
        (
            "wechat",
            '{"errcode":0,"errmsg":"ok","ticket":"bxLdikRXVbTPdHSM05e5u5sUoXNKd8-41ZO3MhKoyN5OfkWITDGgnr2fwJ0m9E8NYzWKVZvdVtaUgWvsdshFKA","expires_in":7200}',
            "bxLdikRXVbTPdHSM05e5u5sUoXNKd8-41ZO3MhKoyN5OfkWITDGgnr2fwJ0m9E8NYzWKVZvdVtaUgWvsdshFKA",
        ),
        ("wecom", '{"errcode":0,"errmsg":"ok","ticket":"bxLdikRX","expires_in":7200}', "bxLdikRX"),
        (
            "feishu",
            '{"code":0,"msg":"ok","data":{"expire_in":7200,"ticket":"0560604568baf296"}}',
            "0560604568baf296",
        ),
        ("dingtalk", '{"jsapiTicket":"dt-ticket-1","expireIn":7200}', "dt-ticket-1"),
    ],
)
def test_each_platforms_ticket_reply(provider, body, ticket):
    grant = get_provider(provider).parse_ticket(200, {}, body.encode())
    assert grant.ticket == ticket and grant.expires_in == 7200


def test_a_ticket_call_with_a_rejected_token_says_so():
    # a live reply quoted in w7corp/easywechat#2759
    body = (
        '{"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest, '
        "could get access_token by getStableAccessToken, more details at "
        'https://mmbizurl.cn/s/JtxxFh33r rid: 654df33c-64386a2f-29857782"}'
    )
    with pytest.raises(ProviderError) as refused:
        get_provider("wechat").parse_ticket(200, {}, body.encode())
    assert refused.value.decoded.classification is Classification.TOKEN_REJECTED
    with pytest.raises(ProviderError) as odd:
        get_provider("feishu").parse_ticket(200, {}, b'{"code":0,"msg":"ok","data":{}}')
    assert odd.value.decoded.classification is Classification.MALFORMED
